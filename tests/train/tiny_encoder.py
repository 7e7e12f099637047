"""A tiny pre-trained-looking encoder for the text classifier tests: a 2-layer BERT of
width 32 with a word-level vocabulary of opinion and filler words, saved as transformers
saves one (no download)."""

from __future__ import annotations

from pathlib import Path

import torch

GOOD = ["great", "lovely", "superb", "moving", "brilliant", "fine", "witty", "warm"]
BAD = ["dull", "awful", "tedious", "silly", "boring", "flat", "clumsy", "weak"]
FILLER = ["the", "film", "story", "is", "a", "and", "cast", "plot", "very", "quite"]


def build_tiny_encoder(folder: Path) -> Path:
    """A tiny BERT (2 layers, width 32) with a word-level vocabulary, saved to a folder."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *GOOD, *BAD, *FILLER, "."]
    words = Tokenizer(models.WordLevel({w: i for i, w in enumerate(vocab)}, unk_token="[UNK]"))
    words.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=words,
        pad_token="[PAD]",
        unk_token="[UNK]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    BertModel(config).save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder
