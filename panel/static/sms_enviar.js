/* Enviar SMS: fill the message from a template, and preview it for the first recipients
 * with the same literal substitution as panel/sms/render.py (a single pass, no expressions).
 * A bad placeholder is flagged at once, in the words the server uses after "Revisar envío"
 * (the placeholders and messages come from render.preview_rules()). */
(function () {
  "use strict";
  var form = document.getElementById("form-sms");
  if (!form) return;
  var mensaje = document.getElementById("mensaje");
  var plantilla = document.getElementById("id_plantilla");
  var lista = document.getElementById("vista-previa");
  var aviso = document.getElementById("error-vista-previa");
  var datos = JSON.parse(document.getElementById("destinatarios-json").textContent || "[]");
  var reglas = JSON.parse(document.getElementById("reglas-mensaje-json").textContent || "{}");
  var MARCADOR = /\{([^{}]*)\}/g;
  var tipo = document.getElementById("tipo");

  /* A commercial message ends with the tenant's opt-out text (SPEC §10), counted in its segments. */
  function conBaja(texto) {
    return tipo && tipo.value === "comercial" ? texto + (reglas.texto_baja || "") : texto;
  }

  function valores(c) {
    var nombre = (c.nombre_cliente || "").trim(), apellido = (c.apellido_cliente || "").trim();
    return { nombre: nombre, apellido: apellido, nombre_completo: [nombre, apellido].filter(Boolean).join(" ") };
  }

  function personalizar(texto, c) {
    var v = valores(c);
    return texto.replace(MARCADOR, function (todo, clave) {
      return Object.prototype.hasOwnProperty.call(v, clave) ? v[clave] : todo;
    });
  }

  /* The first problem validate_template would report about the placeholders, or "". */
  function errorDeMarcadores(texto) {
    var permitidos = reglas.marcadores || [];
    var malo = null;
    texto.replace(MARCADOR, function (todo, clave) {
      if (malo === null && permitidos.indexOf(clave) < 0) malo = todo;
      return todo;
    });
    if (malo !== null) return (reglas.desconocido || "").replace("%s", malo);
    var resto = texto.replace(MARCADOR, "");
    return resto.indexOf("{") >= 0 || resto.indexOf("}") >= 0 ? reglas.llave || "" : "";
  }

  function pintar() {
    lista.textContent = "";
    var error = errorDeMarcadores(mensaje.value);
    aviso.textContent = error;
    aviso.classList.toggle("d-none", !error);
    if (error) return;
    datos.forEach(function (c) {
      var texto = conBaja(personalizar(mensaje.value, c));
      var info = window.smsAnalyze ? window.smsAnalyze(texto) : null;
      var li = document.createElement("li");
      li.className = "list-group-item";
      li.textContent = texto + (info ? "  [" + info.segments + " seg. · " + info.encoding + "]" : "");
      lista.appendChild(li);
    });
    if (!datos.length) {
      var vacio = document.createElement("li");
      vacio.className = "list-group-item text-muted";
      vacio.textContent = "Sin destinatarios.";
      lista.appendChild(vacio);
    }
  }

  plantilla.addEventListener("change", function () {
    var opcion = plantilla.options[plantilla.selectedIndex];
    if (opcion && opcion.dataset.mensaje !== undefined) {
      mensaje.value = opcion.dataset.mensaje;
      mensaje.dispatchEvent(new Event("input"));
    }
    pintar();
  });
  mensaje.addEventListener("input", pintar);
  if (tipo) tipo.addEventListener("change", pintar);
  pintar();
})();
