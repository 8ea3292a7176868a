"""Reward models: turn human preferences into a model that scores outputs.

- `data`: votes or pairs files -> items and pairs; split by prompt; batches grouped by prompt
- `net`, `spec`, `backbones`, `encoding`, `features`: the model (backbone + head) and its inputs
- `train`: the Bradley-Terry loop on Accelerate (head mode over cached embeddings, or full)
- `embeddings`: the frozen-backbone embedding cache kept in the data dir
- `checkpoint`, `model`: atomic checkpoints, and `RewardModel` to score with one
- `tiny`: tiny random models built offline (tests)

Nothing here touches the database: the facade and the jobs pass plain data in and out.
Importing this package is cheap; torch and transformers load in the modules that need them.
"""
