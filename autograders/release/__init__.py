"""What students get: the rendered lessons, the release notebooks and the course site."""
