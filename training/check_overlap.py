#!/usr/bin/env python3
"""How close the training rows come to the gold rows: word 4-grams a gold prompt shares with any training prompt.

    python3 training/check_overlap.py training/gold/devops.dev.jsonl training/data/devops.train.jsonl

Also fails on any gold prompt that appears verbatim in the training rows.
"""
import json
import re
import sys


def grams(text, n=4):
    words = re.findall(r"[a-z']+", text.lower())
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def main():
    gold = [json.loads(line)["prompt"] for line in open(sys.argv[1])]
    train = [json.loads(line)["prompt"] for line in open(sys.argv[2])]
    exact = set(gold) & set(train)
    seen = set().union(*(grams(t) for t in train))
    hits = []
    for g in gold:
        mine = grams(g)
        if mine & seen:
            hits.append((len(mine & seen) / len(mine), g, sorted(" ".join(x) for x in mine & seen)[:3]))
    hits.sort(reverse=True)
    print(f"{len(hits)}/{len(gold)} gold prompts share a word 4-gram with the training prompts; "
          f"mean share {sum(h[0] for h in hits) / len(gold):.1%}; verbatim duplicates: {len(exact)}")
    for share, g, shared in hits[:10]:
        print(f"  {share:.2f}  {g[:80]}  {shared}")
    sys.exit(1 if exact else 0)


if __name__ == "__main__":
    main()
