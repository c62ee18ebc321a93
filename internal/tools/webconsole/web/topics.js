// topics.js: filled in by its owner.
"use strict";
