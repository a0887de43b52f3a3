// A TypeScript client written from the README's examples, typed by what openapi-typescript
// generates from the live /api/openapi.json with no flags (./api.d.ts, written by the test).
// tests/test_openapi_typescript.py compiles it with `tsc --noEmit`, then runs it with node
// against the live app: every request body below is the README's, as a typed literal.
import type { components, paths } from "./api";

type S = components["schemas"];
type Body<P extends keyof paths, M extends keyof paths[P]> = NonNullable<
  paths[P][M] extends { requestBody?: infer B } ? B : never
> extends { content: { "application/json": infer J } }
  ? J
  : never;

const CLIENTES = "/Database/Database/clientes/";
const DETALLE = "/Database/Database/clientes/{id_cliente}/";

// The README's bodies, exactly (ids are the README's; run() swaps in the test's own rows).
export const crear: Body<typeof CLIENTES, "post"> = {
  id_usuario: 42, cedula_cliente: "1020304050", nombre_cliente: "María",
  apellido_cliente: "González", fecha_nacimiento: "1990-05-17", email: "maria@example.com",
  genero: 0, telefono: "3001234567", id_empresa: null, id_campana: null, estado: 1,
};
export const reemplazar: Body<typeof DETALLE, "put"> = {
  id_usuario: 42, cedula_cliente: "1020304050", nombre_cliente: "María",
  apellido_cliente: "González", fecha_nacimiento: "1990-05-17", email: "maria@example.com",
  genero: 0, telefono: "3001234567", id_ciudad: 1, id_pais: 1, id_empresa: null,
  id_campana: 3, estado: 1,
};
export const modificar: Body<typeof DETALLE, "patch"> = { estado: 0 };
export const ajax: Body<"/clientes/crear/ajax/", "post"> = {
  nombre: "Carlos Ruiz", telefono: "3009876543", documento: "123456789",
};
export const envio: Body<"/clientes/enviar-sms/", "post"> = {
  cliente_ids: [1, 2, 3], mensaje: "Hola {nombre}, 20% de descuento", nombre_campana: "Marzo",
};
export const programado: Body<"/clientes/enviar-sms/", "post"> = {
  cliente_ids: [1, 2], mensaje: "Hola {nombre}", programar_para: "2026-12-24T09:00",
};

// What a GET answers goes back in a PUT (Django REST Framework's habit), read-only fields left out.
export function deVuelta(cliente: S["Cliente"]): S["ClienteCompleto"] {
  const { id_cliente, creado, actualizado, ...escribibles } = cliente;
  void [id_cliente, creado, actualizado];
  return escribibles;
}

declare const process: { env: Record<string, string | undefined>; exitCode?: number };

async function call<T>(method: string, path: string, body?: unknown): Promise<{ status: number; data: T }> {
  const env = process.env;
  const response = await fetch(`${env.API}${path}`, {
    method,
    headers: { Authorization: `Token ${env.TOKEN}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, data: (text ? JSON.parse(text) : undefined) as T };
}

function expect(what: string, status: number, wanted: number[], data: unknown): void {
  if (!wanted.includes(status)) throw new Error(`${what}: ${status} ${JSON.stringify(data)}`);
  console.log(`${what}: ${status}`);
}

async function run(): Promise<void> {
  const env = process.env;
  const cuenta = Number(env.CUENTA), campana = Number(env.CAMPANA), delPanel = Number(env.DEL_PANEL);

  const lista = await call<S["PaginaClientes"]>("GET", `${CLIENTES}?estado=1&ordering=-creado&page=1&page_size=50`);
  expect("list", lista.status, [200], lista.data);

  const creado = await call<S["Cliente"]>("POST", CLIENTES, { ...crear, id_usuario: cuenta });
  expect("create", creado.status, [201], creado.data);
  const uno = `${CLIENTES}${creado.data.id_cliente}/`;

  const leido = await call<S["Cliente"]>("GET", uno);
  expect("get", leido.status, [200], leido.data);
  const puesto = await call<S["Cliente"]>("PUT", uno, { ...reemplazar, id_usuario: cuenta, id_campana: campana });
  expect("put", puesto.status, [200], puesto.data);
  const cambiado = await call<S["Cliente"]>("PATCH", uno, modificar);
  expect("patch", cambiado.status, [200], cambiado.data);
  if (cambiado.data.estado !== 0) throw new Error("patch: estado");

  // A client made in the panel (no account: id_usuario null) read and put back as it came.
  const delPanelUrl = `${CLIENTES}${delPanel}/`;
  const delPanelLeido = await call<S["Cliente"]>("GET", delPanelUrl);
  const devuelto = await call<S["Cliente"]>("PUT", delPanelUrl, deVuelta(delPanelLeido.data));
  expect("get → put", devuelto.status, [200], devuelto.data);

  const borrado = await call<undefined>("DELETE", uno);
  expect("delete", borrado.status, [204], borrado.data);

  const nuevo = await call<S["ClienteAjax"]>("POST", "/clientes/crear/ajax/", ajax);
  expect("crear/ajax", nuevo.status, [201], nuevo.data);
  const plantillas = await call<S["ListaPlantillas"]>("GET", "/clientes/plantillas-sms/");
  expect("plantillas-sms", plantillas.status, [200], plantillas.data);
  const enviado = await call<S["CampanaSMS"]>("POST", "/clientes/enviar-sms/", {
    ...envio, cliente_ids: [nuevo.data.cliente.id],
  });
  expect("enviar-sms", enviado.status, [200, 202], enviado.data);
  const campanaSms = await call<S["CampanaSMS"]>("GET", `/clientes/campanas-sms/${enviado.data.campana_id}/`);
  expect("campanas-sms", campanaSms.status, [200], campanaSms.data);
  console.log("OK");
}

if (process.env.API) {
  run().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
