"""The system under test: a FastAPI app that sends welcome emails three ways."""
