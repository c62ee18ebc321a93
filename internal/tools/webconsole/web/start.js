// Loaded last: every page has registered its routes; render the first one
// and follow the hash from now on.
"use strict";
window.addEventListener("hashchange", () => Console.render());
Console.render();
