"""Initialise a Llama-shaped model of about 1.1B parameters from its config:
fastinit.torch.materialize against torch's to_empty + reset_parameters() and
transformers' LlamaForCausalLM(config), each in a fresh process, on the same threads.

    python benchmarks/bench_model.py [--dtype float32] [--threads N] [--json]
"""
import sys

from fastinit.torch._bench import main

if __name__ == "__main__":
    sys.exit(main())
