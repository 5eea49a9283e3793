"""Operations: health check, Prometheus metrics, request ids and JSON logs (no models)."""
