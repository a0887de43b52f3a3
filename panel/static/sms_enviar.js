/* Enviar SMS: fill the message from a template, and preview it for the first recipients
 * with the same literal substitution as panel/sms/render.py (a single pass, no expressions). */
(function () {
  "use strict";
  var form = document.getElementById("form-sms");
  if (!form) return;
  var mensaje = document.getElementById("mensaje");
  var plantilla = document.getElementById("id_plantilla");
  var lista = document.getElementById("vista-previa");
  var datos = JSON.parse(document.getElementById("destinatarios-json").textContent || "[]");

  function valores(c) {
    var nombre = (c.nombre_cliente || "").trim(), apellido = (c.apellido_cliente || "").trim();
    return { nombre: nombre, apellido: apellido, nombre_completo: [nombre, apellido].filter(Boolean).join(" ") };
  }

  function personalizar(texto, c) {
    var v = valores(c);
    return texto.replace(/\{([^{}]*)\}/g, function (todo, clave) {
      return Object.prototype.hasOwnProperty.call(v, clave) ? v[clave] : todo;
    });
  }

  function pintar() {
    lista.textContent = "";
    datos.forEach(function (c) {
      var texto = personalizar(mensaje.value, c);
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
  pintar();
})();
