"""Pydantic request and response models, mirroring the api modules."""
