"""Split the full-size OWLv2 bench graph into the three graphs embed-once-query-many needs.

    python3 tooling/bench/models/split-owlv2.py      # Debian: apt-get install python3-onnx (onnx 1.12)

The bench model (google/owlv2-base-patch16-ensemble/onnx/model.onnx) is optimum's single graph. The split graphs
are cut out of it, so their compute per run is the checkpoint's: the same nodes, the same regenerated weights
(the weight-generating nodes are carried into each graph that needs them), with the inputs and outputs of the
fixture's split graphs (fixtures/README.md, "owlv2"):

- text_model.onnx    input_ids, attention_mask -> text_embeds [texts, 512] (L2-normalized)
- vision_model.onnx  pixel_values -> image_embeds [B, 3600, 768], pred_boxes, objectness_logits, class_embeds
- class_head.onnx    image_embeds, query_embeds [B, Q, 512], query_mask [B, Q] -> logits, class_embeds

One part is added rather than cut: optimum's graph has no objectness head, which vision_model.onnx has (Python's
`objectness_predictor`: dense 768->768, gelu, dense 768->768, gelu, dense 768->1). It is built with the box
head's structure on weights derived from the box head's (scaled, so onnxruntime cannot merge it with the box
head as a common subexpression), so the vision graph does the real checkpoint's work; its values are as
meaningless as every output of the bench models.
"""

import os

import onnx
from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))
FOLDER = os.path.join(HERE, 'google', 'owlv2-base-patch16-ensemble', 'onnx')

# Tensor names in optimum's export (torch 1.13): the flattened image features the heads read, the normalized
# text embeddings before the per-image reshape, the query mask, and the class head's two embeddings.
IMAGE_FEATURES = '/inner/Reshape_1_output_0'
TEXT_EMBEDS = '/inner/owlv2/Div_output_0'
QUERY_EMBEDS = 'text_embeds'
QUERY_MASK = '/inner/Greater_output_0'
CLASS_EMBEDS_RAW = '/inner/class_head/dense0/Add_output_0'
CLASS_EMBEDS_NORMALIZED = '/inner/class_head/Div_output_0'
BOX_HEAD = '/inner/box_head/'


def float_value(name, dims):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, dims)


def cut(model, inputs, outputs):
    """The nodes between `inputs` (name -> value_info) and `outputs` (name -> value_info), as a new graph."""
    producer = {name: node for node in model.graph.node for name in node.output}
    initializers = {t.name: t for t in model.graph.initializer}
    keep, seen, stack = set(), set(), list(outputs)
    needed_initializers = []
    while stack:
        name = stack.pop()
        if name in seen or name in inputs or name == '':
            continue
        seen.add(name)
        if name in initializers:
            needed_initializers.append(initializers[name])
            continue
        if name not in producer:
            raise SystemExit(f'{name} is neither produced in the graph nor one of the inputs {list(inputs)}')
        node = producer[name]
        if id(node) not in keep:
            keep.add(id(node))
            stack.extend(node.input)
    # The source graph's order is topological; keeping it keeps the cut topological too.
    nodes = [node for node in model.graph.node if id(node) in keep]
    return helper.make_graph(
        nodes, 'owlv2-split', list(inputs.values()), list(outputs.values()), initializer=needed_initializers,
    )


def rename(graph, old, new):
    """Renames a tensor everywhere in the graph (node inputs/outputs, graph inputs/outputs)."""
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name == old:
                node.input[i] = new
        for i, name in enumerate(node.output):
            if name == old:
                node.output[i] = new
    for value in list(graph.input) + list(graph.output):
        if value.name == old:
            value.name = new


def add_objectness_head(graph):
    """Python's objectness_predictor on the image features: the box head's layers again, on derived weights."""
    box = [n for n in graph.node if n.name.startswith(BOX_HEAD)]
    copies = []
    renamed = {}
    for node in box:
        copy = onnx.NodeProto()
        copy.CopyFrom(node)
        copy.name = node.name.replace(BOX_HEAD, '/inner/objectness_head/')
        for i, name in enumerate(copy.input):
            if name in renamed:
                copy.input[i] = renamed[name]
            elif node.op_type in ('MatMul', 'Add') and name != IMAGE_FEATURES and not name.startswith(BOX_HEAD):
                # A weight or bias of the box head: use a scaled copy (folded at session creation).
                scaled = f'{name}/objectness'
                copies.append(helper.make_node('Mul', [name, 'objectness/scale'], [scaled], name=f'{scaled}/Mul'))
                copy.input[i] = scaled
        for i, name in enumerate(copy.output):
            renamed[name] = name.replace(BOX_HEAD, '/inner/objectness_head/')
            copy.output[i] = renamed[name]
        copies.append(copy)
    last = renamed['/inner/box_head/dense2/Add_output_0']
    copies.insert(0, helper.make_node(
        'Constant', [], ['objectness/scale'], name='objectness/scale',
        value=helper.make_tensor('scale', TensorProto.FLOAT, [], [0.5])))
    # dense2 of the objectness head has one output: keep the first of the copied box layer's 4, then drop the axis.
    consts = [
        ('objectness/starts', [0]), ('objectness/ends', [1]), ('objectness/axes', [-1]), ('objectness/squeeze', [-1]),
    ]
    for name, values in consts:
        copies.append(helper.make_node(
            'Constant', [], [name], name=name, value=helper.make_tensor(name, TensorProto.INT64, [1], values)))
    copies.append(helper.make_node(
        'Slice', [last, 'objectness/starts', 'objectness/ends', 'objectness/axes'], ['objectness/first'],
        name='/inner/objectness_head/Slice'))
    copies.append(helper.make_node(
        'Squeeze', ['objectness/first', 'objectness/squeeze'], ['objectness_logits'],
        name='/inner/objectness_head/Squeeze'))
    graph.node.extend(copies)
    graph.output.append(float_value('objectness_logits', ['batch_size', 'num_patches']))


def save(graph, source, name):
    model = helper.make_model(graph, opset_imports=source.opset_import, producer_name='ortvision split-owlv2.py')
    model.ir_version = source.ir_version
    onnx.checker.check_model(model)
    path = os.path.join(FOLDER, name)
    onnx.save(model, path)
    print(f'{name}: {len(graph.node)} nodes, {os.path.getsize(path) / 1e6:.2f} MB')


def main():
    source = onnx.load(os.path.join(FOLDER, 'model.onnx'))
    int64 = lambda name, dims: helper.make_tensor_value_info(name, TensorProto.INT64, dims)

    text = cut(
        source,
        {
            'input_ids': int64('input_ids', ['num_texts', 'sequence_length']),
            'attention_mask': int64('attention_mask', ['num_texts', 'sequence_length']),
        },
        {TEXT_EMBEDS: float_value(TEXT_EMBEDS, ['num_texts', 512])},
    )
    rename(text, TEXT_EMBEDS, 'text_embeds')
    save(text, source, 'text_model.onnx')

    vision = cut(
        source,
        {'pixel_values': float_value('pixel_values', ['batch_size', 3, 960, 960])},
        {
            IMAGE_FEATURES: float_value(IMAGE_FEATURES, ['batch_size', 'num_patches', 768]),
            'pred_boxes': float_value('pred_boxes', ['batch_size', 'num_patches', 4]),
            CLASS_EMBEDS_RAW: float_value(CLASS_EMBEDS_RAW, ['batch_size', 'num_patches', 512]),
        },
    )
    add_objectness_head(vision)
    # The 4-D image_embeds of the single graph is an intermediate here; the split graph returns the flat features.
    rename(vision, 'image_embeds', '/inner/image_embeds_grid')
    rename(vision, IMAGE_FEATURES, 'image_embeds')
    rename(vision, CLASS_EMBEDS_RAW, 'class_embeds')
    save(vision, source, 'vision_model.onnx')

    head = cut(
        source,
        {
            IMAGE_FEATURES: float_value(IMAGE_FEATURES, ['batch_size', 'num_patches', 768]),
            QUERY_EMBEDS: float_value(QUERY_EMBEDS, ['batch_size', 'num_queries', 512]),
            QUERY_MASK: helper.make_tensor_value_info(QUERY_MASK, TensorProto.BOOL, ['batch_size', 'num_queries']),
        },
        {
            'logits': float_value('logits', ['batch_size', 'num_patches', 'num_queries']),
            CLASS_EMBEDS_NORMALIZED: float_value(CLASS_EMBEDS_NORMALIZED, ['batch_size', 'num_patches', 512]),
        },
    )
    rename(head, IMAGE_FEATURES, 'image_embeds')
    rename(head, QUERY_EMBEDS, 'query_embeds')
    rename(head, QUERY_MASK, 'query_mask')
    rename(head, CLASS_EMBEDS_NORMALIZED, 'class_embeds')
    save(head, source, 'class_head.onnx')


if __name__ == '__main__':
    main()
