"""slashops consumer services."""
