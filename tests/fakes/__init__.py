"""Local HTTP fakes of third-party APIs: the real SDKs talk to them over 127.0.0.1."""
