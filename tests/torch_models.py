"""Small models for the fastinit.torch tests: every kind of init a model's own code
uses, in few parameters (imported by the tests and by the distributed workers)."""
import torch
from torch import nn


class Kinds(nn.Module):
    """A module whose reset_parameters() calls each torch.nn.init function once."""

    def __init__(self):
        super().__init__()
        self.normal = nn.Parameter(torch.empty(6, 5))
        self.trunc = nn.Parameter(torch.empty(7, 4))
        self.trunc_asym = nn.Parameter(torch.empty(5, 6))
        self.xavier_u = nn.Parameter(torch.empty(6, 9))
        self.xavier_n = nn.Parameter(torch.empty(9, 6))
        self.kaiming_n = nn.Parameter(torch.empty(5, 3, 2))
        self.ortho = nn.Parameter(torch.empty(6, 4))
        self.eye = nn.Parameter(torch.empty(5, 7))
        self.dirac = nn.Parameter(torch.empty(4, 2, 3, 3))
        self.sparse = nn.Parameter(torch.empty(9, 4))
        self.const = nn.Parameter(torch.empty(5))
        self.method_u = nn.Parameter(torch.empty(6, 6))
        self.reset_parameters()

    def reset_parameters(self):
        nn.init.normal_(self.normal, mean=0.5, std=0.2)
        nn.init.trunc_normal_(self.trunc, std=0.02, a=-0.04, b=0.04)
        nn.init.trunc_normal_(self.trunc_asym, mean=0.0, std=1.0, a=-1.0, b=2.0)
        nn.init.xavier_uniform_(self.xavier_u, gain=nn.init.calculate_gain("tanh"))
        nn.init.xavier_normal_(self.xavier_n)
        nn.init.kaiming_normal_(self.kaiming_n, mode="fan_out", nonlinearity="relu")
        nn.init.orthogonal_(self.ortho, gain=2.0)
        nn.init.eye_(self.eye)
        nn.init.dirac_(self.dirac, groups=2)
        nn.init.sparse_(self.sparse, sparsity=0.4, std=0.1)
        nn.init.constant_(self.const, 0.25)
        self.method_u.data.uniform_(-0.3, 0.1)


class Zoo(nn.Module):
    """torch's built-in modules, with uneven sizes so that shards are uneven."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(7, 5)
        self.conv = nn.Conv2d(3, 5, 3)
        self.embed = nn.Embedding(11, 6, padding_idx=2)
        self.norm = nn.LayerNorm(6)
        self.attn = nn.MultiheadAttention(8, 2)
        self.gru = nn.GRU(4, 3)
        self.bn = nn.BatchNorm1d(5)
        self.kinds = Kinds()


class IntegerBuffers(nn.Module):
    """Integer and bool buffers that the init computes: a constant of torch's own
    conversion (fill_ of 7.9 into int64 stores 7), a bool mask, position ids copied
    from arange, an int8 constant, next to a drawn weight."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(3, 4))
        self.register_buffer("steps", torch.empty(2, dtype=torch.int64))
        self.register_buffer("mask", torch.empty(2, 3, dtype=torch.bool))
        self.register_buffer("position_ids", torch.empty(1, 6, dtype=torch.int32))
        self.register_buffer("offset", torch.empty(3, dtype=torch.int8))

    def reset_parameters(self):
        nn.init.normal_(self.weight)
        self.steps.fill_(7.9)
        nn.init.ones_(self.mask)
        with torch.no_grad():
            self.position_ids.copy_(torch.arange(6, dtype=torch.int32)[None])
        nn.init.constant_(self.offset, -128)


class DrawnIntegers(nn.Module):
    """A random draw into an integer buffer: torch itself cannot run it."""

    def __init__(self):
        super().__init__()
        self.register_buffer("ids", torch.empty(4, dtype=torch.int64))

    def reset_parameters(self):
        nn.init.normal_(self.ids)


def even():
    """Sizes that split evenly in 2 x {1, 2, 3, 4} pieces, as torch's distribute_tensor
    needs for _StridedShard."""
    return nn.Sequential(nn.Linear(6, 24), nn.Linear(24, 48), nn.LayerNorm(48),
                         nn.Embedding(24, 12))


def transformer(layers=2, width=8, heads=2):
    """A small transformer of torch's own modules."""
    return nn.Sequential(
        nn.Embedding(13, width),
        *[nn.TransformerEncoderLayer(width, heads, dim_feedforward=12) for _ in range(layers)],
        nn.LayerNorm(width), nn.Linear(width, 13))


def tiny_llama_config(**overrides):
    from transformers import LlamaConfig
    return LlamaConfig(**{"vocab_size": 96, "hidden_size": 32, "intermediate_size": 48,
                          "num_hidden_layers": 2, "num_attention_heads": 4,
                          "num_key_value_heads": 2, "max_position_embeddings": 32,
                          **overrides})


def tiny_bert_config(**overrides):
    from transformers import BertConfig
    return BertConfig(**{"vocab_size": 90, "hidden_size": 24, "num_hidden_layers": 2,
                         "num_attention_heads": 4, "intermediate_size": 40,
                         "max_position_embeddings": 20, **overrides})
