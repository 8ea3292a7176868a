"""Making the outputs raters compare. Plain objects in and out; never imports the store.

- `base`: `Request`/`Output`, the `Generator` protocol, seeds, the device (CUDA bf16 or CPU fp32)
- `text`: transformers causal LMs, chat templates, per-row seeded sampling in padded batches
- `image`: diffusers text-to-image pipelines, one seed per image
- `builtin`: offline models by name (`smollm2-135m`) and the demo contender pair
- `tiny`: tiny random models built offline for tests
- `media`: content-addressed image files under the data dir
- `best_of_n`: n samples of a base contender, the best by an injected scorer
- `streaming`: two contenders answering a typed prompt at once, streamed
- `pool`: planning the ready rating items, and `PoolWorker` (the background thread)
- `grids`: a ranking of a grid as pairwise comparisons
- `contender_file`: appending a validated `[[contenders]]` table to studio.toml
"""
