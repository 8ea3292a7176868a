"""Image contenders: content-addressed media files, seeds, and grids of four to rank."""

from __future__ import annotations

from studio.artifacts import sha256_file
from studio.records import media_key


def test_images_are_files_named_by_their_sha256_and_same_seed_same_image(sqlite_studio, image_spec):
    studio = sqlite_studio
    studio.add_contender(image_spec)
    prompt_id = studio.add_prompts(["a red bicycle in the snow"])[0]
    first = studio.generate("sd", [prompt_id], n_per_prompt=2, seed=4)
    assert studio.generate("sd", [prompt_id], n_per_prompt=2, seed=4) == first
    frame = studio.generations(contender="sd").set_index("id").loc[first]
    assert frame["content_sha256"].nunique() == 2
    for _, row in frame.iterrows():
        assert row["text"] is None and row["media_path"].startswith("media/")
        assert row["media_path"] == media_key(row["content_sha256"], ".png")   # one naming rule, by content
        path = studio.artifacts.path(row["media_path"])
        assert sha256_file(path) == row["content_sha256"]
        assert row["params"]["width"] == 32 and row["params"]["steps"] == 2


def test_the_pool_makes_grids_of_four_images_to_rank(sqlite_studio, image_spec):
    studio = sqlite_studio
    studio.add_contender(image_spec)
    studio.add_prompts(["a lighthouse at dusk", "a bowl of lemons"])
    assert studio.refill_pool(min_ready=2) == 2
    grid = studio.next_item("ana", kind="grid")
    assert grid.kind == "grid" and len(grid.sides) == 4
    assert len({side.media_path for side in grid.sides}) == 4
    for side in grid.sides:
        assert studio.artifacts.exists(side.media_path)
    best, second = grid.sides[1].generation_id, grid.sides[3].generation_id
    results = studio.rank(grid.item_id, [best, second], rater="ana", idempotency_key="grid-1")
    assert len(results) == 5 and all(r.created for r in results)
    assert studio.next_item("ana", kind="grid").item_id != grid.item_id
