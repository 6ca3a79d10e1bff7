"""Operations: the start-up configuration check and the Prometheus metrics endpoint."""
