"""`make run`: the whole system on this machine — local AWS, the ingress, Lambda-style queue runners, saved state."""
