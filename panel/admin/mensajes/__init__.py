"""SMS: plantillas, campañas (their page, progress and steering) and the "Enviar SMS" page."""
