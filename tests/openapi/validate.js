// Validates an OpenAPI document with @apidevtools/swagger-parser (OpenAPI 3.1 schema
// plus its semantic checks); prints the error and exits 1 when it is not valid.
"use strict";
const SwaggerParser = require("@apidevtools/swagger-parser");

const file = process.argv[2];
SwaggerParser.validate(file)
  .then((api) => {
    console.log(`valid: ${api.info.title} ${api.info.version} (OpenAPI ${api.openapi})`);
  })
  .catch((err) => {
    console.error(`invalid: ${err.message}`);
    process.exit(1);
  });
