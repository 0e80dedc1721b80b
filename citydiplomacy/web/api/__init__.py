"""The REST API of the web application (routes and request/response bodies)."""
