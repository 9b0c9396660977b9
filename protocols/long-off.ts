// protobufjs decodes int64 into Long objects when the `long` package is present.
// Vigil's int64 fields are Unix milliseconds (< 2^53), so plain numbers are exact and
// far cheaper. This module must be imported before the generated code is used.
import protobuf from 'protobufjs/minimal.js';

protobuf.util.Long = undefined as never;
protobuf.configure();
