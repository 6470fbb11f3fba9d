/**
 * A minimal protobuf writer for the ONNX messages an exported MobileNet needs: `ModelProto`,
 * `GraphProto`, `NodeProto`, `AttributeProto`, `TensorProto` and `ValueInfoProto` (field numbers
 * from onnx/onnx.proto3). It only encodes; nothing here knows about MobileNet.
 *
 * @module
 */

/** ONNX `TensorProto.DataType` values used here. */
export const OnnxDataType = {
  /** 32-bit IEEE float. */
  FLOAT: 1,
  /** 64-bit signed integer. */
  INT64: 7,
} as const;

/** One node attribute: an int, a float, a list of ints, or a string. */
export type OnnxAttributeValue =
  | { int: number }
  | { float: number }
  | { ints: readonly number[] }
  | { string: string };

/** A graph node (`NodeProto`). */
export interface OnnxNode {
  /** Operator, e.g. `Conv`. */
  opType: string;
  /** Node name. */
  name: string;
  /** Names of the input values (empty string for an omitted optional input). */
  inputs: readonly string[];
  /** Names of the output values. */
  outputs: readonly string[];
  /** Attributes by name. */
  attributes?: Readonly<Record<string, OnnxAttributeValue>>;
}

/** A constant tensor (`TensorProto`), stored as little-endian `raw_data`. */
export interface OnnxTensor {
  /** Value name. */
  name: string;
  /** Dimensions. */
  dims: readonly number[];
  /** float32 or int64 values. */
  data: Float32Array | BigInt64Array;
}

/** A graph input or output (`ValueInfoProto` with a tensor type). */
export interface OnnxValueInfo {
  /** Value name. */
  name: string;
  /** Element type ({@linkcode OnnxDataType}). */
  elemType: number;
  /** Dimensions: a number is fixed, a string is a symbolic dimension (e.g. `"batch"`). */
  shape: readonly (number | string)[];
}

/** A complete model (`ModelProto` with its `GraphProto`). */
export interface OnnxModel {
  /** ONNX IR version (7 goes with opset 13). */
  irVersion: number;
  /** Opset version of the default domain. */
  opset: number;
  /** `producer_name`. */
  producerName: string;
  /** `producer_version`. */
  producerVersion: string;
  /** Graph name. */
  graphName: string;
  /** A description stored as the model's `doc_string`. */
  docString?: string;
  /** Nodes in topological order. */
  nodes: readonly OnnxNode[];
  /** Constant tensors. */
  initializers: readonly OnnxTensor[];
  /** Graph inputs. */
  inputs: readonly OnnxValueInfo[];
  /** Graph outputs. */
  outputs: readonly OnnxValueInfo[];
}

const WIRE_VARINT = 0;
const WIRE_FIXED32 = 5;
const WIRE_LENGTH = 2;

const encoder = new TextEncoder();

/** Appends protobuf fields to a growing list of byte chunks. */
class Writer {
  readonly chunks: Uint8Array[] = [];
  length = 0;

  #push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.byteLength;
  }

  #varint(value: bigint | number): void {
    // Negative int64 values are written as their 64-bit two's complement, as protobuf does.
    let v = BigInt.asUintN(64, BigInt(value));
    const bytes: number[] = [];
    while (v >= 0x80n) {
      bytes.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    bytes.push(Number(v));
    this.#push(Uint8Array.from(bytes));
  }

  #tag(field: number, wire: number): void {
    this.#varint((field << 3) | wire);
  }

  int(field: number, value: number): void {
    this.#tag(field, WIRE_VARINT);
    this.#varint(value);
  }

  float(field: number, value: number): void {
    this.#tag(field, WIRE_FIXED32);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.#push(bytes);
  }

  bytes(field: number, value: Uint8Array): void {
    this.#tag(field, WIRE_LENGTH);
    this.#varint(value.byteLength);
    this.#push(value);
  }

  string(field: number, value: string): void {
    this.bytes(field, encoder.encode(value));
  }

  message(field: number, build: (w: Writer) => void): void {
    const inner = new Writer();
    build(inner);
    this.#tag(field, WIRE_LENGTH);
    this.#varint(inner.length);
    for (const chunk of inner.chunks) this.#push(chunk);
  }

  packedInts(field: number, values: readonly number[]): void {
    const inner = new Writer();
    for (const v of values) inner.#varint(v);
    this.#tag(field, WIRE_LENGTH);
    this.#varint(inner.length);
    for (const chunk of inner.chunks) this.#push(chunk);
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, at);
      at += chunk.byteLength;
    }
    return out;
  }
}

function littleEndianBytes(data: Float32Array | BigInt64Array): Uint8Array {
  const bytes = new Uint8Array(data.byteLength);
  const view = new DataView(bytes.buffer);
  if (data instanceof Float32Array) {
    for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
  } else {
    for (let i = 0; i < data.length; i++) view.setBigInt64(i * 8, data[i], true);
  }
  return bytes;
}

function writeTensor(w: Writer, t: OnnxTensor): void {
  w.packedInts(1, t.dims); // dims
  w.int(2, t.data instanceof Float32Array ? OnnxDataType.FLOAT : OnnxDataType.INT64); // data_type
  w.string(8, t.name); // name
  w.bytes(9, littleEndianBytes(t.data)); // raw_data
}

// AttributeProto.AttributeType
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_STRING = 3;
const ATTR_INTS = 7;

function writeAttribute(w: Writer, name: string, value: OnnxAttributeValue): void {
  w.string(1, name); // name
  if ("int" in value) {
    w.int(3, value.int); // i
    w.int(20, ATTR_INT); // type
  } else if ("float" in value) {
    w.float(2, value.float); // f
    w.int(20, ATTR_FLOAT);
  } else if ("ints" in value) {
    w.packedInts(8, value.ints); // ints
    w.int(20, ATTR_INTS);
  } else {
    w.string(4, value.string); // s
    w.int(20, ATTR_STRING);
  }
}

function writeNode(w: Writer, node: OnnxNode): void {
  for (const input of node.inputs) w.string(1, input);
  for (const output of node.outputs) w.string(2, output);
  w.string(3, node.name);
  w.string(4, node.opType);
  for (const [name, value] of Object.entries(node.attributes ?? {})) {
    w.message(5, (a) => writeAttribute(a, name, value));
  }
}

function writeValueInfo(w: Writer, info: OnnxValueInfo): void {
  w.string(1, info.name); // name
  w.message(2, (type) =>
    // type: TypeProto
    type.message(1, (tensor) => { // tensor_type
      tensor.int(1, info.elemType); // elem_type
      tensor.message(2, (shape) => { // shape: TensorShapeProto
        for (const dim of info.shape) {
          shape.message(1, (d) => typeof dim === "number" ? d.int(1, dim) : d.string(2, dim));
        }
      });
    }));
}

/**
 * Encodes `model` as the bytes of an ONNX `ModelProto`, ready for `InferenceSession.create` or
 * a `.onnx` file.
 */
export function encodeOnnxModel(model: OnnxModel): Uint8Array {
  const w = new Writer();
  w.int(1, model.irVersion); // ir_version
  w.string(2, model.producerName); // producer_name
  w.string(3, model.producerVersion); // producer_version
  if (model.docString) w.string(6, model.docString); // doc_string
  w.message(7, (g) => { // graph
    for (const node of model.nodes) g.message(1, (n) => writeNode(n, node));
    g.string(2, model.graphName);
    for (const t of model.initializers) g.message(5, (m) => writeTensor(m, t));
    for (const v of model.inputs) g.message(11, (m) => writeValueInfo(m, v));
    for (const v of model.outputs) g.message(12, (m) => writeValueInfo(m, v));
  });
  w.message(8, (o) => { // opset_import
    o.string(1, ""); // domain: the default ONNX domain
    o.int(2, model.opset);
  });
  return w.finish();
}
