"""What runs beside slashops, never in it: the operator CLI (`cli`), `make run`'s local system (`local`), packaging
and deployment with the generators of checked-in files (`release`), and the Slack and Jenkins test servers (`fakes`).
"""
