"""Clientes (and Importar clientes): the list staff live in, its search and filters, bulk
actions, the selection they act on, the ciudad lookup and the import pages."""
