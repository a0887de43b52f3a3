"""Configuración: usuarios, the envío settings, exclusiones, the RNE load,
países/departamentos/ciudades and tokens de API."""
