"""Flask-Admin at /admin/: built inside the app factory, one Admin per app."""

from flask import Flask
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme

from .comun import menu
from .dashboard import PanelIndexView


def register_views(admin: Admin) -> None:
    """Add the model views (one module per group of views)."""
    from ..models import (
        CampanaPublicitaria,
        Ciudad,
        Cliente,
        Departamento,
        Empresa,
        Historial,
        MovimientoCapital,
        Pais,
        Usuario,
        Vehiculo,
        Venta,
    )
    from .clientes import importar
    from .clientes.lista import ClienteView
    from .configuracion import exclusiones_propias
    from .configuracion.carga_rne import RNEView
    from .configuracion.envio_sms import EnvioView
    from .configuracion.lugares import CiudadView, DepartamentoView, PaisView
    from .configuracion.tokens_api import register_token_views
    from .configuracion.usuarios import UsuarioView
    from .cuenta import MiCuentaView
    from .datos.campanas_publicitarias import CampanaView
    from .datos.empresas import EmpresaView
    from .datos.movimientos import MovimientoView
    from .datos.vehiculos import VehiculoView
    from .datos.ventas import VentaView
    from .historial.entradas import HistorialView
    from .mensajes.campanas import register_sms_views

    datos, config = "Datos", "Configuración"
    admin.add_view(ClienteView(Cliente, name="Clientes", endpoint="clientes", url="clientes"))
    importar.register(admin)
    admin.add_view(EmpresaView(Empresa, name="Empresas", endpoint="empresas", url="empresas", category=datos))
    admin.add_view(
        CampanaView(
            CampanaPublicitaria,
            name="Campañas publicitarias",
            endpoint="campanas",
            url="campanas",
            category=datos,
        )
    )
    admin.add_view(
        VehiculoView(Vehiculo, name="Vehículos", endpoint="vehiculos", url="vehiculos", category=datos)
    )
    admin.add_view(
        MovimientoView(
            MovimientoCapital,
            name="Movimientos de capital",
            endpoint="movimientos",
            url="movimientos",
            category=datos,
        )
    )
    admin.add_view(VentaView(Venta, name="Ventas", endpoint="ventas", url="ventas", category=datos))
    register_sms_views(admin)
    admin.add_view(
        UsuarioView(Usuario, name="Usuarios", endpoint="usuarios", url="usuarios", category=config)
    )
    admin.add_view(EnvioView(name="Envío de SMS", endpoint="envio", url="envio-sms", category=config))
    exclusiones_propias.register(admin)
    admin.add_view(RNEView(name="Números excluidos (RNE)", endpoint="rne", url="rne", category=config))
    admin.add_view(PaisView(Pais, name="Países", endpoint="paises", url="paises", category=config))
    admin.add_view(
        DepartamentoView(
            Departamento, name="Departamentos", endpoint="departamentos", url="departamentos", category=config
        )
    )
    admin.add_view(CiudadView(Ciudad, name="Ciudades", endpoint="ciudades", url="ciudades", category=config))
    admin.add_view(HistorialView(Historial, name="Historial", endpoint="historial", url="historial"))
    register_token_views(admin)
    admin.add_view(MiCuentaView(name="Mi cuenta", endpoint="mi_cuenta", url="mi-cuenta"))


def init_admin(app: Flask) -> Admin:
    admin = Admin(
        app,
        name="Panel de Clientes",
        url="/admin",
        index_view=PanelIndexView(name="Inicio", url="/admin"),
        theme=Bootstrap4Theme(base_template="admin/panel_base.html", fluid=True),
    )
    register_views(admin)
    app.jinja_env.globals["kept_menu"] = menu.kept_menu
    return admin
