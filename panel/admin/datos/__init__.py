"""Datos: empresas, campañas publicitarias and what hangs from a client (vehículos,
movimientos de capital, ventas)."""
