"""The worker's exit codes, the numbers runner/protocol/exit-codes.ts gives (gunicorn's where it has one)."""

# The app could not be loaded (it raised at import, a syntax error, its lifespan startup failed).
APP_LOAD_ERROR = 4
