"""HF checkpoint -> GGUF and ONNX, quantized and verified against the source (edgefc.export)."""
