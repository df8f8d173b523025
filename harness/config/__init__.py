"""Configuration files as data: bench models, loading TOML bench files, secrets, and the
validation errors that name file and key path. Imports only the domain and errors.
"""
