"""How the panel writes values for people: counts and lists of words (and, below, dates, money
and labels). Templates, exports, Historial and messages all format through here."""


def plural(n: int, singular: str, plural_: str) -> str:
    """'1 cliente', '3 clientes'."""
    return f"{n} {singular if n == 1 else plural_}"


def listing(parts: list[str]) -> str:
    """'a', 'a y b', 'a, b y c'."""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " y " + parts[-1]
