/* Live count of a text message as it is typed: characters, how many SMS it is sent as, and the
   encoding. The rules are app/sms/segments.py's (3GPP TS 23.038): GSM-7 when every character is
   in the GSM 03.38 alphabet (160 in one text, 153 per part of a longer one; ^{}\[~]|€ count
   twice), else UCS-2 (70, then 67 per part, in UTF-16 code units: an emoji counts twice).
   Markup (app/templates/_macros/sms.html): <textarea data-sms-counter> followed by
   <p data-sms-counter-for="ID of the textarea" data-template="..." data-unicode="..."> */
(function () {
  "use strict";
  var BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var EXTENSION = "^{}\\[~]|€\f";

  function count(text) {
    var chars = Array.from(text);
    var outside = chars.filter(function (c) { return BASIC.indexOf(c) < 0 && EXTENSION.indexOf(c) < 0; });
    var units, single, part, encoding;
    if (outside.length === 0) {
      units = chars.length + chars.filter(function (c) { return EXTENSION.indexOf(c) >= 0; }).length;
      single = 160; part = 153; encoding = "GSM-7";
    } else {
      units = text.length; // UTF-16 code units, as the network counts them
      single = 70; part = 67; encoding = "UCS-2";
    }
    var segments = units === 0 ? 0 : units <= single ? 1 : Math.ceil(units / part);
    var perSegment = segments > 1 ? part : single;
    return {
      characters: chars.length, units: units, segments: segments, encoding: encoding,
      remaining: Math.max(segments, 1) * perSegment - units,
      outside: Array.from(new Set(outside)).slice(0, 5),
    };
  }

  function fill(template, values) {
    return Object.keys(values).reduce(function (out, key) {
      return out.split("__" + key + "__").join(values[key]);
    }, template);
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-sms-counter-for]"), function (output) {
    var field = document.getElementById(output.dataset.smsCounterFor);
    if (!field) return;
    var max = parseInt(output.dataset.maxSegments || "0", 10);
    function update() {
      var result = count(field.value);
      var line = fill(output.dataset.template, {
        characters: result.characters, segments: result.segments, remaining: result.remaining,
        encoding: result.encoding,
      });
      if (result.encoding === "UCS-2") {
        line += " " + fill(output.dataset.unicode, { characters: result.outside.join(" ") });
      }
      output.textContent = line;
      output.dataset.segments = String(result.segments);
      output.dataset.encoding = result.encoding;
      output.classList.toggle("error", max > 0 && result.segments > max);
    }
    field.addEventListener("input", update);
    update();
  });
})();
