// The one table of primitives. Registration is checked so that a typo or a duplicate fails at import.

import type { Attrs, LowerContext, Node, OpDef } from '../graph.js';

const OPS = new Map<string, OpDef>();

export function defineOp<A extends Attrs>(def: OpDef<A>): OpDef<A> {
  if (!/^[A-Z][A-Za-z0-9]*$/.test(def.name)) throw new Error(`op name "${def.name}" must be PascalCase`);
  if (OPS.has(def.name)) throw new Error(`op "${def.name}" is defined twice`);
  OPS.set(def.name, def as unknown as OpDef);
  return def;
}

export function registeredOps(): readonly OpDef[] {
  return [...OPS.values()];
}

/** Lowering for ops that map one-to-one onto an ONNX operator of the same inputs and outputs. */
export function lowerAs(opType: string, attrs?: (node: Node) => Parameters<LowerContext['emit']>[3]) {
  return (node: Node, ctx: LowerContext): void => {
    ctx.emit(
      opType,
      node.inputs.map((t) => ctx.name(t)),
      node.outputs.map((_, i) => ctx.outputName(node, i)),
      attrs?.(node),
    );
  };
}
