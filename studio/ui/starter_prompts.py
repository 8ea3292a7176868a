"""The starter prompt set `studio demo` writes: fifty short prompts of our own, spread over
instructions, questions, rewriting, short stories and coding, sized for a small model."""

from __future__ import annotations

STARTER_SET = "starter"

INSTRUCTIONS = (
    "Give three tips for keeping a houseplant alive while travelling for two weeks.",
    "Explain how to make a cup of tea to someone who has never seen a kettle.",
    "List five things to check before going on a long bicycle ride.",
    "Write a packing list for a weekend of camping in spring.",
    "Describe, step by step, how to tie a simple knot to secure a parcel.",
    "Suggest a quick breakfast that needs no cooking, and say why it is filling.",
    "Give a polite way to decline a meeting invitation, in two sentences.",
    "Explain how to water a garden efficiently during a dry summer.",
    "Write three rules for a board game night that keeps everyone happy.",
    "Give advice to someone starting to learn a musical instrument as an adult.",
)

QUESTIONS = (
    "Why is the sky blue during the day and red at sunset?",
    "What is the difference between weather and climate?",
    "How do bees help plants grow fruit?",
    "Why do we have leap years?",
    "What does a librarian do besides lending books?",
    "Why does bread go stale, and how can you slow it down?",
    "How does a compass know where north is?",
    "What makes a good password, and why?",
    "Why do cats purr?",
    "What is the water cycle, in simple words?",
)

REWRITING = (
    "Rewrite this sentence to sound friendlier: 'Submit the form by Friday or it will not be processed.'",
    "Make this shorter without losing meaning: 'At this point in time we are not currently able to "
    "offer any kind of refund to customers.'",
    "Rewrite for a ten-year-old: 'Photosynthesis converts light energy into chemical energy.'",
    "Turn this list into one flowing sentence: eggs, flour, sugar, butter, a pinch of salt.",
    "Rewrite this in a formal tone: 'Hey, the printer's broken again, can someone sort it?'",
    "Fix the grammar: 'Me and him goes to the market every tuesdays.'",
    "Rewrite as a headline: 'The town council voted on Monday to open a new public library next year.'",
    "Say the same thing more positively: 'Don't forget to lock the door.'",
    "Summarise in one sentence: 'The meeting ran long because the projector failed, the agenda "
    "changed twice, and nobody had brought the budget figures.'",
    "Rewrite this instruction as a question: 'Close the window when it rains.'",
)

STORIES = (
    "Write a four-sentence story about a lighthouse keeper who finds a message in a bottle.",
    "Write a very short story about a robot learning to bake bread.",
    "Tell a short story that begins with: 'The train was late, and that changed everything.'",
    "Write a fable about a tortoise who wants to fly, with a moral at the end.",
    "Write a short story about two neighbours who only talk through notes on a fence.",
    "Describe a rainy afternoon in a small bookshop, in five sentences.",
    "Write a bedtime story about a moon that is afraid of the dark.",
    "Write a short mystery about a missing umbrella, solved in the last line.",
    "Write a short poem about the first snow of the year.",
    "Tell a short story about a dog who guards a garden of tomatoes.",
)

CODING = (
    "Write a Python function that returns True if a string is a palindrome.",
    "Explain what a for loop does, with a tiny example in Python.",
    "Write a Python function that counts the vowels in a sentence.",
    "What is the difference between a list and a tuple in Python?",
    "Write a SQL query that selects the ten most recent orders from a table named orders.",
    "Write a Python function that converts Celsius to Fahrenheit.",
    "Explain what a variable is, to someone who has never programmed.",
    "Write a shell command that counts the lines in a file named notes.txt.",
    "Write a Python function that returns the largest number in a list without using max().",
    "Explain in two sentences why code should have tests.",
)

CATEGORIES = {"instruction": INSTRUCTIONS, "question": QUESTIONS, "rewriting": REWRITING,
              "story": STORIES, "coding": CODING}


def starter_prompts() -> list[dict]:
    """The starter prompts as dicts for `Studio.add_prompts`, each tagged with its category."""
    return [{"prompt": text, "prompt_set": STARTER_SET, "meta": {"category": category}}
            for category, texts in CATEGORIES.items() for text in texts]
