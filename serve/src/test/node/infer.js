#!/usr/bin/env node
// A third-party gRPC client of Squeeze's server, for NodeGrpcClientTest: @grpc/grpc-js with @grpc/proto-loader, loading
// the server's own grpc_predict_v2.proto at run time (no generated code).
//
//   node infer.js TARGET PROTO REQUEST_JSON
//
// TARGET is host:port; REQUEST_JSON a file holding a ModelInferRequest in proto-loader's JSON form, with
// raw_input_contents as base64 strings. The script checks the server is ready (ServerReady, ModelReady), reads the
// model's metadata, sends the ModelInfer request and prints one JSON object on stdout: {"metadata": ...,
// "response": ...}, raw_output_contents as base64 and int64 values as decimal strings. On a gRPC error it prints
// {"error": {"code", "details"}} and exits 1.
'use strict';

const fs = require('fs');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const [target, protoFile, requestFile] = process.argv.slice(2);
if (!requestFile) {
  console.error('usage: node infer.js TARGET PROTO REQUEST_JSON');
  process.exit(2);
}

const definition = protoLoader.loadSync(protoFile, {keepCase: true, longs: String, enums: String, defaults: true});
const inference = grpc.loadPackageDefinition(definition).inference;
const client = new inference.GRPCInferenceService(target, grpc.credentials.createInsecure());

const request = JSON.parse(fs.readFileSync(requestFile, 'utf8'));
request.raw_input_contents = (request.raw_input_contents || []).map((b64) => Buffer.from(b64, 'base64'));

function call(method, message) {
  return new Promise((resolve, reject) => {
    client[method](message, {deadline: Date.now() + 60000}, (error, response) => (error ? reject(error) : resolve(response)));
  });
}

(async () => {
  try {
    const ready = await call('ServerReady', {});
    const modelReady = await call('ModelReady', {name: request.model_name, version: ''});
    if (!ready.ready || !modelReady.ready) throw new Error('not ready: ' + JSON.stringify({ready, modelReady}));
    const metadata = await call('ModelMetadata', {name: request.model_name, version: ''});
    const response = await call('ModelInfer', request);
    response.raw_output_contents = response.raw_output_contents.map((b) => Buffer.from(b).toString('base64'));
    process.stdout.write(JSON.stringify({metadata, response}) + '\n');
    client.close();
  } catch (error) {
    process.stdout.write(JSON.stringify({error: {code: error.code, details: error.details || String(error)}}) + '\n');
    client.close();
    process.exit(1);
  }
})();
