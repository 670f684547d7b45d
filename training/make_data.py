#!/usr/bin/env python3
"""Generate synthetic routing rows for one tool catalogue, with a fixed seed.

    python training/make_data.py --catalogue examples/catalogues/support.tools.json \
        --rows 600 --seed 1 --out training/data/support.train.jsonl

Each line is {"prompt": user text, "target": {"tool", "arguments"}} or
{"prompt": ..., "target": {"tool": "no_tool", "reason": ...}}, the input of
`toolrouter render-prompt --rows`, which validates every target against its
tool's schema (this script runs it at the end when the binary is built).

Argument conventions (the gold sets follow the same ones):
- Identifiers (order ids, service names, teams, people) are copied as written.
- Free text (refund/escalation reason, page summary, ticket title, log filter)
  is a verbatim span of the message, without trailing punctuation.
- Optional arguments appear only when the message states them (amount,
  priority, force, level, contains, labels, assignee).
- Durations become minutes (2 hours -> 120, last day -> 24 hours -> 1440);
  country names become ISO 3166-1 alpha-2 codes; small number words become digits.
- A request missing an identifying argument (which order, which service, how
  many replicas), a question, small talk or an action outside the catalogue
  is `no_tool` with a short reason.

Templates use {slots}; noise (casing, typos, dropped punctuation) touches only
the literal template text, never the argument values.
"""
import argparse
import json
import os
import random
import string
import subprocess
import sys

# --------------------------------------------------------------------------
# Surface noise applied to template text only

_FMT = string.Formatter()


def typo(word, rng):
    if len(word) < 4 or not word.isalpha():
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(["swap", "drop", "double"])
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == "drop":
        return word[:i] + word[i + 1:]
    return word[:i] + word[i] + word[i:]


def noisy(literal, rng, style):
    if style["lower"]:
        literal = literal.lower()
    if style["typos"]:
        words = literal.split(" ")
        literal = " ".join(typo(w, rng) if rng.random() < 0.12 else w for w in words)
    return literal


def render(template, values, rng, style):
    """Fill {slots} with values; noise only the literal parts."""
    out = []
    for literal, field, _, _ in _FMT.parse(template):
        out.append(noisy(literal, rng, style))
        if field is not None:
            out.append(str(values[field]))
    return "".join(out)


def new_style(rng):
    return {"lower": rng.random() < 0.2, "typos": rng.random() < 0.2}


def finish(text, rng):
    text = " ".join(text.split())
    if rng.random() < 0.15 and text and text[-1] in ".?!":
        text = text[:-1]
    return text


def cap(s):
    return s[:1].upper() + s[1:]


def pick(rng, xs):
    return rng.choice(xs)


OPENERS = ["", "", "", "", "Hi, ", "Hello, ", "Hey, ", "Hi there! ", "Good morning. ", "Hello team, ",
           "Quick one: ", "Sorry to bother you, ", "Excuse me, ", "Hey ", "Dear support, ", "Yo, "]
CLOSERS = ["", "", "", "", " Thanks!", " Thank you.", " Thanks in advance.", " Cheers.", " Please.",
           " Much appreciated.", " ASAP if possible.", " Thx", " ty"]


def wrap(core, rng, context=()):
    """Add an optional opener, a context sentence before or after, a closer."""
    parts = [pick(rng, OPENERS) + core]
    if context and rng.random() < 0.35:
        sentence = pick(rng, context)
        if rng.random() < 0.5:
            parts.insert(0, sentence)
        else:
            parts.append(sentence)
    text = " ".join(parts) + pick(rng, CLOSERS)
    return text


NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                "eleven", "twelve"]


# --------------------------------------------------------------------------
# Support catalogue

def order_id(rng):
    return "ORD-" + "".join(rng.choice("0123456789") for _ in range(rng.randint(4, 8)))


ITEMS = ["kettle", "lamp", "jacket", "phone case", "blender", "coffee grinder", "backpack", "mug set", "vacuum",
         "toaster", "charger", "pair of boots", "dress", "monitor", "keyboard", "desk chair", "watch", "rug",
         "frying pan", "speaker", "tent", "bike helmet", "printer", "hoodie", "sofa cushion", "baby monitor",
         "air fryer", "mattress topper", "drill", "suitcase", "tablet", "camera bag", "wall clock", "scarf"]
DEFECTS = ["arrived broken", "stopped working after {n} days", "is the wrong colour", "doesn't fit",
           "was missing parts", "came damaged", "has a deep scratch", "smells of burnt plastic",
           "looks nothing like the pictures", "is a different model than I ordered", "leaks",
           "won't turn on", "was already used", "fell apart after one wash", "is too small",
           "makes a grinding noise", "overheats", "arrived with a dent", "has a faulty switch"]
OTHER_REASONS = ["I was charged twice", "I never received it", "I cancelled but was still billed",
                 "the discount code was not applied", "it was delivered to the wrong address",
                 "the parcel had been opened", "it arrived three weeks late", "I returned it a month ago",
                 "the price dropped the day after I bought it", "the seller sent two of the same item",
                 "half of the order was missing", "the box was soaked and everything is ruined",
                 "it was a duplicate order by mistake", "the size chart was wrong",
                 "I was billed for express shipping but it came standard"]
NOUN_REASONS = ["a cracked screen", "missing parts", "a broken zipper", "water damage", "a late delivery",
                "a duplicate charge", "a wrong size", "a faulty battery", "a torn seam", "a missing item"]


# Clauses that lengthen a reason; the whole clause stays part of the verbatim span.
REASON_TAILS = [" and I no longer want it", " and nobody answers my emails", " so it is useless to me",
                " even though I paid for express delivery", " after only {n} uses", " within the first week",
                " and the box was crushed too", " but I was charged anyway", " while I was using it for the first time",
                " and the seller ignores me", " which is the second time this happened", " before I even opened it",
                " and the replacement never came", " during the first wash", " although it was marked as new"]


def with_tail(reason, rng, p=0.3):
    if rng.random() < p:
        return reason + pick(rng, REASON_TAILS).format(n=rng.randint(2, 9))
    return reason


def problem(rng):
    if rng.random() < 0.6:
        defect = pick(rng, DEFECTS).format(n=rng.randint(2, 14))
        return with_tail(f"{pick(rng, ['the', 'my', 'the', 'this'])} {pick(rng, ITEMS)} {defect}", rng)
    return with_tail(pick(rng, OTHER_REASONS), rng)


def money(rng):
    if rng.random() < 0.5:
        value = rng.randint(3, 250)
        text = str(value)
    else:
        cents = rng.choice([50, 99, 25, 75, 10, 5, 95, 49])
        value = round(rng.randint(1, 180) + cents / 100, 2)
        text = f"{value:.2f}"
    surface = pick(rng, ["{v}", "${v}", "€{v}", "£{v}", "{v} euros", "{v} dollars", "{v} EUR", "USD {v}"])
    return value, surface.format(v=text)


SUPPORT_CONTEXT = ["I'm really disappointed.", "It was a birthday present.", "I've been a customer for years.",
                   "It's a present for my son.", "The delivery estimate was Monday.", "I need it for a trip on Friday.",
                   "I paid for express shipping.", "My neighbour might have taken it in.", "I'm a bit worried.",
                   "It's for my wedding next week.", "I've emailed twice already.",
                   "I ordered it two weeks ago.", "This is my first order with you.", "My partner placed the order.",
                   "I'm travelling next week.", "The website wasn't much help.", "Hope you can sort this out.",
                   "I'm writing from my phone, sorry for typos."]


def gen_track_order(rng):
    oid = order_id(rng)
    t = pick(rng, [
        "Where is my order {o}?", "Where's {o}?", "Can you track {o} for me?", "What's the status of {o}?",
        "Has {o} shipped yet?", "Track order {o}", "Any update on {o}?", "When will {o} arrive?",
        "I haven't received {o} yet, can you check?", "{o} - where is it?", "Is {o} on its way?",
        "I need the shipping status for order {o}.", "Could you check on my parcel {o}?",
        "Status of {o} please", "has my package {o} left the warehouse", "Tracking info for {o}?",
        "{o} was due yesterday and hasn't come. Where is it?", "Can you see where {o} is right now?",
        "What's happening with order {o}?", "Please look up delivery of {o}.", "I'm waiting for {o}, any news?",
        "Is order {o} out for delivery?", "my order number is {o}, when does it get here",
        "Can I get an ETA on {o}?", "Did {o} get dispatched?", "Where's my stuff? Order {o}.",
        "I'd like to know where {o} is.", "Check the shipment {o} please.",
        "Any update on the delivery of {o}?", "Could you find out where {o} is at the moment?",
        "The tracking for {o} hasn't moved in days. What's happening?", "What's the delivery date for {o}?",
        "I ordered {o} two weeks ago and nothing yet. Where is it?", "Is {o} still in transit?",
        "Please give me a shipping update for {o}.", "{o} hasn't turned up. Can you see where it is?",
        "How far along is {o}?", "Has the courier picked up {o}?", "Can you confirm {o} is on the way?",
        "{o}: is it shipped or still being packed?", "I'm expecting {o} - when is it coming?",
        "Would you check the delivery progress of {o}?", "Where exactly is {o} right now?",
        "Still no sign of {o}. Any idea where it is?", "When should I expect {o}?",
    ])
    style = new_style(rng)
    text = wrap(render(t, {"o": oid}, rng, style), rng, SUPPORT_CONTEXT)
    return text, {"order_id": oid}


def gen_request_refund(rng):
    oid = order_id(rng)
    style = new_style(rng)
    if rng.random() < 0.15:
        reason = pick(rng, NOUN_REASONS)
        t = pick(rng, ["Refund {o} due to {r}.", "I'm requesting a refund for {o} due to {r}.",
                       "Please refund {o} because of {r}.", "Refund for {o}, reason: {r}."])
    else:
        reason = problem(rng)
        t = pick(rng, [
            "I want a refund for {o} because {r}.", "Please refund {o}, {r}.", "Refund {o}: {r}.",
            "I'd like my money back for {o} since {r}.", "Can I get a refund on {o}? {R}.",
            "{o} - {r}. I want a refund.", "Requesting a refund for order {o} as {r}.",
            "Money back for {o} please, {r}.", "Could you refund order {o}? Reason: {r}.",
            "I need to return {o} for a refund because {r}.", "refund {o} pls, {r}",
            "{R}, so I want a refund for {o}.", "Please issue a refund for {o} because {r}.",
            "Order {o}: {r}. Please refund me.", "I'm asking for a refund on {o} - {r}.",
            "Can you reimburse me for {o}? {R}.", "{R}. Refund order {o} please.",
            "Hello, {r}, so please refund {o}.", "Refund request: {o}, because {r}.",
            "Please credit me for {o} — {r}.", "I'd like to be reimbursed for {o} since {r}.",
            "Return {o} for a refund please: {r}.", "{o} — {r}, so refund it please.",
            "Could I have my money back on {o}? {R}.", "Please process a refund on {o} as {r}.",
            "Refund needed for {o}. {R}.", "I'm requesting my money back for {o} because {r}.",
            "Can {o} be refunded? {R}.", "{R}. I'd like a refund for {o}, please.",
        ])
    values = {"o": oid, "r": reason, "R": cap(reason)}
    text = render(t, values, rng, style)
    target_reason = cap(reason) if "{R}" in t else reason
    args = {"order_id": oid, "reason": target_reason}
    if rng.random() < 0.3:
        value, surface = money(rng)
        extra = pick(rng, [" Only {a} though, not the full amount.", " Just refund {a} please.",
                           " A partial refund of {a} is fine.", " Please refund {a}.", " The amount is {a}.",
                           " Only part of it: {a}.", " I only want {a} back.", " Refund {a} of it."])
        if rng.random() < 0.35:  # amount up front: "Partial refund of 12 on ORD-..., ..."
            front = pick(rng, ["Refund just {a} of {o}: {r}.", "Please refund {a} on {o} because {r}.",
                               "Could you give back {a} for {o}? {R}.", "I'd like {a} refunded on {o}: {r}.",
                               "A partial refund of {a} for {o}, please: {r}.", "Can you refund {a} on {o}? Reason: {r}.",
                               "Send {a} back to me for {o} since {r}.", "Refund {a} for {o}, {r}.",
                               "I'm owed {a} on {o} because {r}.", "Give me {a} back on {o}, {r}."])
            text = render(front, {**values, "a": surface}, rng, style)
            args["reason"] = cap(reason) if "{R}" in front else reason
        else:
            text += render(extra, {"a": surface}, rng, style)
        args["amount"] = value
    return wrap(text, rng, SUPPORT_CONTEXT), args


COUNTRIES = [  # code, names, cities, street maker, postal maker, layout
    ("GB", ["United Kingdom", "UK", "England", "Great Britain"], ["London", "Manchester", "Leeds", "Bristol", "Glasgow", "Oxford"], "anglo", "uk", "city_pc"),
    ("US", ["United States", "USA", "US", "the US"], ["Boston", "Denver", "Austin", "Chicago", "Portland", "San Diego", "New York"], "anglo", "d5", "city_pc"),
    ("CA", ["Canada"], ["Vancouver", "Ottawa", "Montreal", "Calgary"], "anglo", "ca", "city_pc"),
    ("AU", ["Australia"], ["Melbourne", "Perth", "Brisbane", "Adelaide"], "anglo", "d4", "city_pc"),
    ("IE", ["Ireland"], ["Cork", "Galway", "Limerick"], "anglo", "ie", "city_pc"),
    ("DE", ["Germany", "Deutschland"], ["Berlin", "Munich", "Hamburg", "Cologne", "Leipzig"], "de", "d5", "pc_city"),
    ("AT", ["Austria"], ["Vienna", "Graz", "Salzburg"], "de", "d4", "pc_city"),
    ("CH", ["Switzerland"], ["Zurich", "Basel", "Bern", "Geneva"], "de", "d4", "pc_city"),
    ("FR", ["France"], ["Marseille", "Toulouse", "Nantes", "Bordeaux", "Lille"], "fr", "d5", "pc_city"),
    ("BE", ["Belgium"], ["Brussels", "Ghent", "Antwerp"], "fr", "d4", "pc_city"),
    ("ES", ["Spain", "España"], ["Barcelona", "Valencia", "Seville", "Bilbao"], "es", "d5", "pc_city"),
    ("IT", ["Italy"], ["Milan", "Rome", "Naples", "Bologna", "Florence"], "it", "d5", "pc_city"),
    ("NL", ["Netherlands", "the Netherlands", "Holland"], ["Rotterdam", "Utrecht", "Eindhoven", "Leiden"], "nl", "nl", "pc_city"),
    ("SE", ["Sweden"], ["Gothenburg", "Malmo", "Uppsala"], "se", "se", "pc_city"),
    ("DK", ["Denmark"], ["Copenhagen", "Aarhus", "Odense"], "se", "d4", "pc_city"),
    ("PT", ["Portugal"], ["Porto", "Braga", "Coimbra"], "pt", "pt", "pc_city"),
    ("PL", ["Poland"], ["Warsaw", "Krakow", "Gdansk"], "pl", "pl", "pc_city"),
]
STREET_NAMES = ["Maple", "Oak", "Station", "Church", "Mill", "High", "Park", "Elm", "Victoria", "Kings", "Queen",
                "Bridge", "Garden", "Lake", "River", "Hill", "Market", "Cedar", "Willow", "North"]
EURO_NAMES = ["Linden", "Berg", "Haupt", "Schiller", "Goethe", "Garibaldi", "Verdi", "Molen", "Kerk", "Prinsen",
              "Liberdade", "Sol", "Alcala", "Gran", "Kungs", "Dronning", "Pasteur", "Voltaire", "Foch", "Nowy"]


def street(rng, kind):
    n = rng.randint(1, 250)
    if kind == "anglo":
        return f"{n} {pick(rng, STREET_NAMES)} {pick(rng, ['Street', 'Road', 'Lane', 'Avenue', 'Ave', 'St', 'Rd', 'Drive', 'Way', 'Close'])}"
    name = pick(rng, EURO_NAMES)
    return {"de": f"{name}straße {n}", "fr": f"{n} Rue {name}", "es": f"Calle {name} {n}", "it": f"Via {name} {n}",
            "nl": f"{name}straat {n}", "se": f"{name}gatan {n}", "pt": f"Rua {name} {n}",
            "pl": f"ul. {name} {n}"}[kind]


def postal(rng, kind):
    d = lambda k: "".join(rng.choice("0123456789") for _ in range(k))
    L = lambda k: "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXY") for _ in range(k))
    return {"d5": d(5), "d4": str(rng.randint(1000, 9999)), "nl": f"{rng.randint(1000, 9999)} {L(2)}",
            "se": f"{d(3)} {d(2)}", "pt": f"{rng.randint(1000, 9999)}-{d(3)}", "pl": f"{d(2)}-{d(3)}",
            "uk": f"{L(rng.randint(1, 2))}{rng.randint(1, 20)} {rng.randint(1, 9)}{L(2)}",
            "ca": f"{L(1)}{d(1)}{L(1)} {d(1)}{L(1)}{d(1)}", "ie": f"{L(1)}{d(2)} {L(1)}{d(1)}{L(1)}{d(1)}"}[kind]


def gen_update_address(rng):
    oid = order_id(rng)
    code, names, cities, skind, pkind, layout = pick(rng, COUNTRIES)
    addr = {"street": street(rng, skind), "city": pick(rng, cities), "postal_code": postal(rng, pkind),
            "country": code}
    country = code if rng.random() < 0.25 else pick(rng, names)
    v = {"s": addr["street"], "c": addr["city"], "p": addr["postal_code"], "k": country, "o": oid}
    shape = rng.random()
    if shape < 0.15:
        a = render(pick(rng, ["street {s}, city {c}, postal code {p}, country {k}",
                              "street: {s}; city: {c}; zip: {p}; country: {k}",
                              "{s} / {c} / {p} / {k}"]), v, rng, {"lower": False, "typos": False})
    elif layout == "pc_city" and shape < 0.8:
        a = "{s}, {p} {c}, {k}".format(**v)
    else:
        a = "{s}, {c}, {p}, {k}".format(**v)
    t = pick(rng, [
        "Please change the delivery address of {o} to {a}.", "Ship {o} to {a} instead.",
        "Can you update the address on {o}? New address: {a}.", "Send {o} to {a}",
        "I moved - {o} should go to {a}.", "Update shipping address for order {o}: {a}",
        "{o}: please deliver to {a} instead of my old place.", "Change address for {o} -> {a}",
        "Could you redirect {o} to {a}?", "New address for {o} is {a}.",
        "I gave the wrong address for {o}. The right one is {a}.", "please deliver order {o} to {a}",
        "The address on {o} is wrong, use {a}.", "For {o}, use this address: {a}.",
        "Can {o} be sent to {a} instead?", "Address change on order {o}, new one: {a}",
        "Please deliver {o} to {a} rather than my home.", "Change the destination of {o} to {a}.",
        "{o} needs to go to {a} now, I moved.", "I'm at a new place: {a}. Please update {o}.",
        "Kindly ship {o} to this address instead: {a}.", "My new address for {o} is {a}, please update it.",
        "Route {o} to my work address: {a}.", "Redirect order {o} to {a}.",
        "I made a typo in the address of {o}; the correct one is {a}.", "Move the delivery of {o} to {a}.",
    ])
    style = new_style(rng)
    text = wrap(render(t, {"o": oid, "a": a}, rng, style), rng, SUPPORT_CONTEXT)
    return text, {"order_id": oid, "address": addr}


ESCALATE_REASONS = ["nobody has answered my emails", "I have been waiting three weeks for a reply",
                    "the bot keeps giving me the same answer", "my refund never arrived",
                    "I was charged for an order I cancelled", "my account was hacked",
                    "the courier was rude to my mother", "I have asked four times already",
                    "your chatbot can't handle my problem", "the product injured my child",
                    "someone placed orders with my card", "I need to discuss a bulk order",
                    "my warranty claim was rejected without explanation", "the item caught fire",
                    "I was promised a call back and never got one", "my complaint was closed without a fix",
                    "my package was stolen from the doorstep", "I keep getting charged every month",
                    "I want to report a fraudulent seller", "the replacement is also broken",
                    "I'm locked out of my account", "my data was shown to another customer",
                    "the same parcel has been lost twice", "I was overcharged on three orders",
                    "my invoice shows a product I never bought", "your courier left my parcel in the rain",
                    "I am disabled and need help arranging a pickup", "my complaint about a damaged sofa was ignored",
                    "I'm a journalist asking about a data breach", "the refund you promised in May never came",
                    "my elderly father was charged for a subscription he never wanted",
                    "the technician missed two appointments", "I need a written statement for my insurance"]
PRIORITY_CUES = {"urgent": ["This is urgent.", "URGENT:", "Urgent!", "It's urgent.", "Urgent:", "Urgent —",
                            "This is urgent!", "(urgent)", "Priority: urgent."],
                 "low": ["Low priority:", "No rush, low priority.", "(low priority)", "Low priority.", "Low priority —",
                         "Priority: low."],
                 "normal": ["Normal priority.", "Priority: normal.", "Normal priority:", "(normal priority)",
                            "Normal priority —"]}


ESCALATE_TAILS = [" and nobody has called me back", " for the third time this month", " while I was abroad",
                  " and I am still waiting for an answer", " after I sent all the documents", " but the chat keeps closing",
                  " during the last two deliveries", " and the bot just repeats itself", " even after two complaints",
                  " and it is costing me money every day"]


def gen_escalate(rng):
    reason = pick(rng, ESCALATE_REASONS)
    if rng.random() < 0.3:
        reason += pick(rng, ESCALATE_TAILS)
    ask = pick(rng, ["let me talk to a human", "I want to speak to a manager", "get me a real person",
                     "please escalate this", "transfer me to an agent", "can a supervisor help",
                     "put me through to someone", "I need a human agent", "connect me with a person",
                     "hand this to a human please", "I'd like to speak with your staff",
                     "escalate to a supervisor", "get me a human", "I need to talk to someone real",
                     "can someone from your team take over", "operator please",
                     "please forward this to a real agent", "I'd like a manager to call me back",
                     "get a senior agent on this", "I need to speak with someone in charge",
                     "let a person handle this", "put a human on this case", "send this to your complaints team",
                     "I'd like to talk to an actual person", "connect me to a supervisor",
                     "please have a staff member contact me", "I want this escalated"])
    t = pick(rng, ["{A}, {r}.", "{R}, {a}.", "{A}: {r}.", "{R}. {A}.", "{A} because {r}.",
                   "{A} - {r}.", "{R} so {a}.", "{A}. {R}.", "{A} — {r}.", "{R}! {A}.", "{A}; {r}.",
                   "The bot can't help. {A}: {r}.", "{A}, since {r}."])
    v = {"a": ask, "A": cap(ask), "r": reason, "R": cap(reason)}
    style = new_style(rng)
    text = render(t, v, rng, style)
    target_reason = cap(reason) if "{R}" in t else reason
    args = {"reason": target_reason}
    if rng.random() < 0.4:
        prio = pick(rng, ["urgent", "urgent", "low", "normal"])
        cue = pick(rng, PRIORITY_CUES[prio])
        text = (cue + " " + text) if rng.random() < 0.5 else (text + " " + cue)
        args["priority"] = prio
    return wrap(text, rng), args


SUPPORT_NO_TOOL = {
    "greeting, no action needed": ["Hi!", "Hello there", "Good morning!", "hey", "Hi, how are you today?",
                                   "Hello, is anyone there?", "Good evening :)", "Hiya"],
    "thanks, no action needed": ["Thanks for your help!", "Thank you, that's all.", "Great, cheers!",
                                 "Perfect, thanks a lot", "ok thanks bye", "Appreciate it, have a good day!"],
    "question, answer directly": ["What is your refund policy?", "How long does shipping usually take?",
                                  "Can I return something I bought on sale?", "Do you deliver to Iceland?",
                                  "How do I change my account email?", "Is it possible to pick up in store?",
                                  "What does 'label created' mean?",
                                  "Do you deliver on Sundays?", "Which payment methods do you accept?",
                                  "What are your opening hours?", "Do you ship internationally?",
                                  "How long is the warranty on electronics?", "Can I pay with PayPal?",
                                  "Is there a store near Berlin?", "How do returns work?",
                                  "How much is express delivery?", "Do you offer gift wrapping?",
                                  "What's the difference between standard and express shipping?"],
    "missing order_id": ["Where is my order?", "I would like a refund please.", "My package hasn't arrived.",
                         "Can you track my parcel?", "I need to change my delivery address.",
                         "Please refund me, the item is broken.", "When will my stuff arrive?",
                         "I'd like to send my order somewhere else.", "What's the status of my order?",
                         "Refund please, wrong size.", "Can you tell me where my parcel is?",
                         "I'd like to change where my order gets delivered."],
    "no tool for that action": ["Please cancel order {o}.", "Cancel my order {o} please.",
                                "I want to change my password.", "Delete my account.",
                                "Change the payment card on {o}.", "Please apply coupon SAVE10 to {o}.",
                                "Stop sending me marketing emails.", "Can you exchange {o} for a bigger size?",
                                "Add a gift message to {o}.", "I want to leave a review for {o}.",
                                "Update my phone number on my account.", "Sign me up for the loyalty program.",
                                "Stop my order {o}, I don't want it any more.", "Remove me from your mailing list.",
                                "Split {o} into two shipments.", "Please reorder {o} for me."],
}

# --------------------------------------------------------------------------
# DevOps catalogue

SVC_A = ["payments", "auth", "checkout", "search", "billing", "inventory", "user", "notification", "email",
         "image", "video", "order", "cart", "ledger", "session", "cache", "queue", "report", "analytics",
         "feature", "web", "edge", "cron", "metrics", "ingest", "token", "profile", "pricing", "shipping",
         "catalog", "review", "fraud", "geo", "push", "media", "config", "audit", "ml", "sms", "kafka"]
SVC_B = ["api", "service", "worker", "svc", "gateway", "proxy", "sync", "runner", "frontend", "backend",
         "indexer", "scheduler", "store", "router", "consumer", "exporter", "v2", "processor", "cache"]


def service(rng):
    r = rng.random()
    if r < 0.2:
        return pick(rng, SVC_A)
    if r < 0.85:
        return f"{pick(rng, SVC_A)}-{pick(rng, SVC_B)}"
    return f"{pick(rng, SVC_A)}-{pick(rng, SVC_A)}-{pick(rng, SVC_B)}"


DEVOPS_CONTEXT = ["We got an alert a minute ago.", "Customers are complaining.", "I'm on call tonight.",
                  "This is blocking the release.", "Dashboards look weird.", "Latency went up after the deploy.",
                  "Just want to be sure.", "Incident channel is getting loud."]


def svc_ref(rng, s):
    return pick(rng, [s, s, s, f"the {s} service", f"`{s}`", f"{s} service"])


STATUS_ASKS = [
    "Is {s} up?", "Check the status of {s}.", "How is {s} doing?", "What's the health of {s}?",
    "Is {s} healthy right now?", "status {s}", "Are all {s} replicas running?", "Is {s} down?",
    "Can you check whether {s} is OK?", "How many replicas of {s} are healthy?", "Give me the status of {s}",
    "Is anything wrong with {s}?", "Health check on {s} please.", "Is {s} alive?", "Did {s} recover?",
    "Report on {s} status.", "What state is {s} in?", "{s} - healthy or not?", "Is {s} responding?",
    "Can you see if {s} is running fine?", "{s} health?", "Is {s} having trouble?",
    "Is {s} back up?", "Has {s} recovered yet?", "Need to know if {s} is up before I continue.",
    "What's going on with {s}?", "How's {s} looking?", "Is {s} serving traffic normally?",
    "Are the {s} pods healthy?", "Is {s} working?", "Tell me whether {s} is healthy.", "Quick check on {s} please.",
    "Can you verify {s} is running?", "Is {s} OK after the deploy?", "how is {s} holding up",
    "What's the current replica count and health of {s}?", "Is {s} in a good state?", "Has {s} stabilised?",
]
SYMPTOMS = ["Customers report slowness.", "I'm seeing 502s.", "Latency looks high.", "We got paged earlier.",
            "Before I deploy,", "After the patch window,", "Someone said it was flapping.",
            "Error rates jumped.", "Dashboards are red."]


def gen_get_service_status(rng):
    s = service(rng)
    style = new_style(rng)
    text = render(pick(rng, STATUS_ASKS), {"s": svc_ref(rng, s)}, rng, style)
    if rng.random() < 0.25:
        text = pick(rng, SYMPTOMS) + " " + text
    return wrap(text, rng, DEVOPS_CONTEXT), {"service": s}


RESTART_PLAIN = [
    "Restart {s}.", "Please restart {s}", "Can you restart {s}?", "Bounce {s}.", "Reboot {s} please.",
    "{s} is stuck, restart it.", "Give {s} a restart.", "Cycle {s}.", "Kick {s}, it's hanging.",
    "restart all {s} instances", "{s} needs a restart.", "Could you restart every instance of {s}?",
    "Roll-restart {s}.", "Restart the pods for {s}.", "{s} is leaking memory, please restart it.",
    "Recycle {s}.", "Relaunch {s}.", "Please bounce {s}, it's misbehaving.", "Can you kick {s} again?",
    "Restart every {s} instance.", "Time to restart {s}.", "{s} is frozen; a restart should fix it.",
    "We rotated a secret for {s}, so restart it.", "Cycle the {s} pods.", "Bounce all {s} instances.",
]
RESTART_FORCE = [
    "Hard restart {s}.", "Restart {s} and skip draining.", "Force restart {s} now.",
    "Restart {s} without draining.", "Restart {s} immediately, no graceful drain.",
    "Restart {s}, force it.", "Forcefully restart {s}.", "Restart {s} - don't drain, just kill it.",
    "Kill every {s} instance and restart them, no draining.", "Do a hard restart of {s}.",
]
RESTART_GRACEFUL = [
    "Gracefully restart {s}.", "Restart {s} in a graceful way.", "Restart {s} after draining it.",
    "Restart {s} gracefully please.", "Restart {s} but let connections drain first.", "Graceful restart of {s}.",
    "Restart {s} with draining.", "Drain {s} and then restart it.", "Restart {s}, no force.",
    "Can you restart {s} gracefully?", "Restart {s}; drain connections first please.",
]


def gen_restart_service(rng):
    s = service(rng)
    style = new_style(rng)
    r = rng.random()
    args = {"service": s}
    if r < 0.3:
        t = pick(rng, RESTART_FORCE)
        args["force"] = True
    elif r < 0.5:
        t = pick(rng, RESTART_GRACEFUL)
        args["force"] = False
    else:
        t = pick(rng, RESTART_PLAIN)
    text = render(t, {"s": svc_ref(rng, s)}, rng, style)
    return wrap(text, rng, DEVOPS_CONTEXT), args


SCALE_ASKS = [
    "Scale {s} to {n} replicas.", "Set {s} replicas to {n}.", "Scale {s} to {n}.", "Bump {s} up to {n} replicas.",
    "Bring {s} down to {n} replicas.", "Run {n} replicas of {s}.", "I need {n} instances of {s}.",
    "Set the replica count of {s} to {n}.", "scale deployment {s} {n}", "Can you scale {s} out to {n} pods?",
    "Please resize {s} to {n} replicas.", "{s}: {n} replicas please.", "Give {s} {n} replicas.",
    "Let's have {n} pods for {s}.", "Change {s} to {n} replicas.", "Scale down {s} to {n}.",
    "Scale up {s} to {n} replicas.", "Reduce {s} to {n} replicas.", "Increase {s} to {n} instances.",
    "Bring {s} down to {n} instances.", "{s} should run {n} replicas.", "Resize {s}: {n} pods.",
    "Traffic is spiking, bump {s} to {n} replicas.", "Put {s} at {n} replicas.", "Set {s} to {n} instances.",
    "Make it {n} replicas for {s}.", "Adjust {s} to {n} pods.", "Cut {s} back to {n} replicas.",
]


def gen_scale_deployment(rng):
    s = service(rng)
    n = rng.choice([0, 1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 24, 30, 40, 50, 64, 80, 100,
                    rng.randint(0, 100), rng.randint(0, 100)])
    surface = NUMBER_WORDS[n] if n < len(NUMBER_WORDS) and rng.random() < 0.25 else str(n)
    t = pick(rng, SCALE_ASKS)
    if n == 1 and rng.random() < 0.5:
        surface = "a single"
        t = t.replace("{n} replicas", "{n} replica").replace("{n} instances", "{n} instance").replace("{n} pods", "{n} pod")
    style = new_style(rng)
    text = wrap(render(t, {"s": svc_ref(rng, s), "n": surface}, rng, style), rng, DEVOPS_CONTEXT)
    return text, {"name": s, "replicas": n}


LOG_TERMS = ["timeout", "connection refused", "OOMKilled", "deadlock", "NullPointerException", "503",
             "panic", "TLS handshake", "rate limit", "disk full", "retry", "segfault", "unauthorized",
             "invoice-{n}", "user {n}", "order {n}", "slow query", "circuit open", "ECONNRESET", "failed to bind",
             "Kafka", "Postgres", "cert expired", "404", "stack overflow", "token invalid", "job-{n}"]


def duration(rng):
    r = rng.random()
    if r < 0.4:
        m = rng.choice([5, 10, 15, 20, 25, 30, 40, 45, 50, 60, 75, 90, 120, 180, 240, rng.randint(1, 600)])
        return m, pick(rng, ["last {m} minutes", "past {m} minutes", "last {m} min", "previous {m} minutes",
                             "last {m} mins", "past {m} mins"]).format(m=m)
    if r < 0.88:
        h = rng.randint(1, 24)
        if h == 1:
            return 60, pick(rng, ["last hour", "past hour", "last 1 hour", "previous hour"])
        return h * 60, pick(rng, ["last {h} hours", "past {h} hours", "previous {h} hours", "last {h}h",
                                  "past {h}h"]).format(h=h)
    return pick(rng, [(30, "last half hour"), (30, "past half an hour"), (1440, "last day"),
                      (1440, "last 24 hours"), (1440, "past day"), (15, "last quarter of an hour"),
                      (1440, "past 24 hours")])


LEVEL_WORDS = {"error": ["error", "error-level", "ERROR"], "warn": ["warn", "warning", "warning-level", "WARN"],
               "info": ["info", "info-level", "INFO"], "debug": ["debug", "debug-level", "DEBUG"]}
LEVEL_TAILS = {"error": ["Errors only.", "Only errors.", "Just the errors.", "Error level only."],
               "warn": ["Warnings only.", "Only warnings.", "Warn level.", "Just warnings."],
               "info": ["Info level.", "Only info messages.", "Info-level only."],
               "debug": ["Debug level.", "Include debug output.", "Debug only."]}
LOG_ASKS = [
    "Show me {lv}logs from {s} for the {d}.", "Query {lv}logs of {s} for the {d}.", "Search {s} {lv}logs from the {d}.",
    "Pull the {d} of {s} {lv}logs.", "Get {lv}logs for {s}, {d}.", "{s} {lv}logs, {d}",
    "Can you grab the {lv}log lines from {s} over the {d}?", "Check {s} {lv}logs in the {d}.",
    "I need {lv}logs from {s} covering the {d}.", "Tail {s} {lv}logs for the {d}.",
    "What did {s} log over the {d}?", "Pull up {s}'s {lv}logs from the {d}.",
    "Give me the {lv}log output of {s} for the {d}.", "Look through {s} {lv}logs over the {d}.",
    "Scan {s} {lv}logs from the {d}.", "Print the {lv}log lines {s} wrote in the {d}.",
]
LOG_LEVEL_ASKS = {
    "error": ["Show me errors from {s} in the {d}.", "Any errors from {s} over the {d}?",
              "What errors did {s} throw in the {d}?"],
    "warn": ["Any warnings from {s} in the {d}?", "What warnings did {s} print over the {d}?"],
    "debug": ["Show the debug messages of {s} for the {d}.", "Give me debug lines from {s}, {d}."],
    "info": ["Show info messages from {s} in the {d}.", "What info-level lines did {s} write in the {d}?"],
}


def gen_query_logs(rng):
    s = service(rng)
    minutes, dur = duration(rng)
    args = {"service": s, "since_minutes": minutes}
    level = pick(rng, list(LEVEL_WORDS)) if rng.random() < 0.5 else None
    term = pick(rng, LOG_TERMS).format(n=rng.randint(100, 99999)) if rng.random() < 0.45 else None
    style = new_style(rng)
    v = {"s": svc_ref(rng, s), "d": dur, "lv": ""}
    tail = ""
    if level is None:
        t = pick(rng, LOG_ASKS)
    else:
        r = rng.random()
        if r < 0.35:
            t = pick(rng, LOG_LEVEL_ASKS[level])
        elif r < 0.75:
            t = pick(rng, LOG_ASKS)
            v["lv"] = pick(rng, LEVEL_WORDS[level]) + " "
        else:
            t = pick(rng, LOG_ASKS)
            tail = " " + pick(rng, LEVEL_TAILS[level])
        args["level"] = level
    text = render(t, v, rng, style)
    if term:
        q = pick(rng, ["{t}", "{t}", "{t}", "'{t}'", '"{t}"'])
        text = text.rstrip(".?") + render(pick(rng, [
            " mentioning {t}.", " containing {t}.", " that include {t}.", " matching {t}.", " with {t} in them.",
            ", filter on {t}.", " that mention {t}?", " containing the string {t}.", " where the text has {t}.",
            " - look for {t}.", " and search for {t}."]), {"t": q.format(t=term)}, rng, {"lower": False, "typos": False})
        args["contains"] = term
    text += tail
    return wrap(text, rng, DEVOPS_CONTEXT), args


INCIDENTS = ["checkout is returning 500s", "card payments are failing in the EU", "the main Postgres cluster is unreachable",
             "login is broken for all users", "the hourly export job crashed", "Kafka lag is above one hour",
             "disk is full on the log cluster", "latency on the API doubled", "payouts are stuck",
             "DNS is failing in us-east", "the certificate on the edge expired", "search returns no results",
             "the data warehouse load is late", "refunds are not being processed", "pods are crash looping",
             "memory usage is climbing on every node", "the message queue is backing up",
             "fraud checks are timing out", "dashboards show stale data", "webhooks are not delivered",
             "Postgres replication is lagging by 20 minutes", "every Mastercard transaction is declined",
             "the Kubernetes API server is unreachable", "S3 uploads fail with 403", "Redis is evicting hot keys",
             "yesterday's billing export is missing rows", "the ingestion pipeline dropped 10% of events",
             "TLS handshakes fail for mobile clients", "three nodes went NotReady", "Spark jobs are stuck in the queue"]
SEV_SURFACE = {"sev1": ["sev1", "SEV1", "sev-1", "severity 1", "Sev 1", "SEV-1"],
               "sev2": ["sev2", "SEV2", "sev-2", "severity 2", "Sev 2", "SEV-2"],
               "sev3": ["sev3", "SEV3", "sev-3", "severity 3", "Sev 3", "SEV-3"]}
PAGE_ASKS = [
    "Page {t}, {v}: {s}.", "Page the {t} on-call ({v}): {s}.", "{v} - page {t}: {s}.", "Wake up {t}, {v}, {s}.",
    "Please page {t} with {v}. {s}.", "Page {t}. Severity {v}. Summary: {s}.", "{S} - page {t} at {v}.",
    "Get {t} on the phone, {v}: {s}.", "Alert {t} on-call, {v}, {s}.", "Page {t} ({v}) - {s}.",
    "Open a {v} page for {t}: {s}.", "Notify {t} on-call, it's {v}: {s}.", "Ping the {t} on-call, {v}: {s}.",
    "Escalate to the {t} on-call, {v}: {s}.", "Wake the {t} on-call: {v}, {s}.", "Incident for {t}, {v}: {s}.",
    "We need {t} on call now, {v}: {s}.", "{S}. Page {t}, {v}.", "Call out the {t} on-call for a {v}: {s}.",
    "{V} incident, {t} team: {S}", "Send a {v} alert to {t}: {s}.", "{t} on-call please, {v}. {S}.",
]


def gen_page_oncall(rng):
    team = pick(rng, ["platform", "data", "payments"])
    sev = pick(rng, ["sev1", "sev2", "sev3"])
    summary = pick(rng, INCIDENTS)
    t = pick(rng, PAGE_ASKS)
    vs = pick(rng, SEV_SURFACE[sev])
    v = {"t": team, "v": vs, "V": vs.upper(), "s": summary, "S": cap(summary)}
    if "{t} on" not in t and "{t} team" not in t and rng.random() < 0.3:
        v["t"] = pick(rng, [f"the {team} team", f"{team} on-call", f"the {team} on-call"])
    text = wrap(render(t, v, rng, new_style(rng)), rng)
    return text, {"team": team, "severity": sev, "summary": cap(summary) if "{S}" in t else summary}


TICKET_TITLES = ["Upgrade Redis to 7.2", "Flaky test in payments pipeline", "Add alerting on disk usage",
                 "Rotate API keys for billing", "Investigate slow queries on orders db", "Remove unused feature flags",
                 "Document the deploy process", "Migrate cron jobs to Kubernetes", "Fix memory leak in thumbnailer",
                 "Clean up old S3 buckets", "Add retries to webhook sender", "Review firewall rules",
                 "Set up staging for search", "Bump Go version in CI", "Write runbook for Kafka outages",
                 "Reduce log noise in auth", "Tune autoscaling for web-frontend", "Audit admin access",
                 "Split the monolith config", "Add dashboards for queue depth", "Renew the wildcard certificate",
                 "Replace the legacy cron host", "Move secrets to the vault", "Investigate packet loss in eu-west",
                 "Deprecate the v1 search endpoint", "Add tracing to checkout", "Archive old Grafana dashboards",
                 "Load test the new payment flow", "Automate the database failover drill",
                 "Update the on-call rota for December", "Patch OpenSSL on the bastion hosts"]
LABELS = ["bug", "infra", "ops", "security", "tech-debt", "database", "ci", "monitoring", "docs", "urgent",
          "networking", "storage", "follow-up", "cleanup", "performance", "postmortem", "maintenance", "kubernetes"]
PEOPLE = ["alice", "bob", "maria", "sam", "priya", "chen", "omar", "lena", "j.smith", "team-sre", "dev-team-a",
          "kofi", "ines", "noah", "yuki", "dev-team-c", "platform-team", "r.garcia", "tom"]
TICKET_ASKS = ["Create a ticket: {t}.", "Open a ticket titled {t}.", "File a ticket for {t}.", "New ticket: {t}",
               "Please open a ticket - {t}.", "Can you create a ticket called {t}?", "Track this in a ticket: {t}.",
               "Make a ticket with the title {t}.", "Ticket: {t}.", "Open an issue: {t}.", "Log a ticket: {t}.",
               "Raise a ticket: {t}.", "Could you file a ticket titled {t}?", "Open a tracking ticket: {t}.",
               "Please log an issue titled {t}.", "Add a ticket to the backlog: {t}.", "Create a task: {t}.",
               "File an issue: {t}.", "Start a ticket named {t}.", "Write up a ticket: {t}."]
LABEL_ASKS_MANY = [" Labels: {l}.", " Tag it {l}.", " Add the labels {l}.", " Label it {l}.", ", labelled {l}.",
                   " and tag it {l}.", ", labels {l}.", " with labels {l}.", " Tags: {l}."]
LABEL_ASKS_ONE = [" Label: {l}.", " Tag it {l}.", " with the {l} label.", ", label {l}.", " Add the {l} label.",
                  ", tagged {l}."]
ASSIGN_ASKS = [" Assign it to {p}.", " Assignee: {p}.", " Give it to {p}.", " Owner {p}.", ", assign to {p}.",
               ", owner {p}.", " Assign {p}.", " and assign it to {p}.", ", for {p}."]


TITLE_VERBS = [("Upgrade", "upgrading"), ("Rotate", "rotating"), ("Investigate", "investigating"), ("Fix", "fixing"),
               ("Add", "adding"), ("Remove", "removing"), ("Migrate", "migrating"), ("Document", "documenting"),
               ("Clean up", "cleaning up"), ("Review", "reviewing"), ("Automate", "automating"),
               ("Replace", "replacing"), ("Patch", "patching"), ("Tune", "tuning"), ("Audit", "auditing"),
               ("Archive", "archiving"), ("Move", "moving"), ("Set up", "setting up"), ("Monitor", "monitoring")]
TITLE_OBJECTS = ["the Redis cluster", "API keys for {s}", "slow queries on the orders db", "old S3 buckets",
                 "the nginx config on the gateways", "the CI runners", "retries in the webhook sender",
                 "the staging database", "memory usage of {s}", "the Helm charts for {s}",
                 "certificates on the internal load balancers", "the backup job for {s}", "log retention in Loki",
                 "dashboards for {s}", "the Terraform state", "DNS records for the status page", "secrets in {s}",
                 "the deploy pipeline of {s}", "flaky tests in {s}", "the cron host", "rate limits on the public API",
                 "the Kafka brokers to 3.7", "node pools in the EU cluster", "SSH access to the bastion",
                 "error budgets for {s}", "the runbook for {s}", "health checks of {s}", "the Grafana alerts for {s}"]
GERUND_ASKS = ["File a ticket for {t}.", "Can you open a ticket for {t}?", "Create a ticket about {t}.",
               "We need a ticket for {t}.", "Open an issue for {t}.", "Please raise a ticket for {t}.",
               "Could you log a ticket about {t}?", "New ticket for {t}, please."]


def ticket_title(rng):
    """An imperative title (as written, maybe lower-cased) and its ask, or a gerund title with a 'for ...' ask."""
    if rng.random() < 0.45:
        title = pick(rng, TICKET_TITLES)
        return (title[0].lower() + title[1:] if rng.random() < 0.3 else title), pick(rng, TICKET_ASKS)
    verb, gerund = pick(rng, TITLE_VERBS)
    thing = pick(rng, TITLE_OBJECTS).format(s=service(rng))
    if rng.random() < 0.35:
        return f"{gerund} {thing}", pick(rng, GERUND_ASKS)
    title = f"{verb} {thing}"
    return (title[0].lower() + title[1:] if rng.random() < 0.3 else title), pick(rng, TICKET_ASKS)


def gen_create_ticket(rng):
    title, ask = ticket_title(rng)
    style = new_style(rng)
    text = render(ask, {"t": title}, rng, style)
    args = {"title": title}
    if rng.random() < 0.35:
        labels = rng.sample(LABELS, rng.choice([1, 1, 2, 2, 3]))
        if len(labels) == 1:
            tail, joined = pick(rng, LABEL_ASKS_ONE), labels[0]
        else:
            tail = pick(rng, LABEL_ASKS_MANY)
            joined = ", ".join(labels[:-1]) + pick(rng, [" and ", ", "]) + labels[-1]
        text = text.rstrip(".") + render(tail, {"l": joined}, rng, style) if tail.startswith((",", " with", " and")) \
            else text + render(tail, {"l": joined}, rng, style)
        args["labels"] = labels
    if rng.random() < 0.35:
        who = pick(rng, PEOPLE)
        tail = pick(rng, ASSIGN_ASKS)
        text = (text.rstrip(".") + render(tail, {"p": who}, rng, style)) if tail.startswith((",", " and")) \
            else text + render(tail, {"p": who}, rng, style)
        args["assignee"] = who
    return wrap(text, rng, DEVOPS_CONTEXT), args


DEVOPS_NO_TOOL = {
    "greeting, no action needed": ["Hi all", "Morning!", "hey, anyone around?", "Hello!", "Good evening folks",
                                   "Good morning all, hope the weekend was quiet", "Happy Friday everyone"],
    "thanks, no action needed": ["Thanks, all good now.", "Cheers, that worked!", "ty!", "Great, thanks.",
                                 "That did the trick, thank you", "Nice work, thanks all."],
    "question, answer directly": ["What does sev1 mean?", "How do I tail logs with kubectl?",
                                  "When should I use sev1 instead of sev2?", "How do I restart a pod myself?",
                                  "Which team owns {s}?", "How long do we keep logs?", "Why is {s} so slow lately?",
                                  "What is the on-call rotation?", "Who's covering on-call for payments tonight?",
                                  "How do replicas work in Kubernetes?", "Can you explain what the force flag does?",
                                  "Is there a dashboard for {s} logs?", "What severity should a login outage be?",
                                  "What is a deployment?", "Why do pods get OOMKilled?",
                                  "What's our SLA for the API?", "Who owns the billing service?",
                                  "How many teams do we have on call?", "What's the difference between restart and redeploy?",
                                  "Where is the runbook for Kafka?", "When is the next maintenance window?"],
    "missing service": ["Restart the service.", "Can you check if it's up?", "Restart it please.",
                        "Is the service healthy?", "Show me the logs.", "Bounce it.", "Health check please.",
                        "Can you restart that thing again?", "Show me error logs from the last hour.",
                        "Is it down again?"],
    "missing replicas": ["Scale up {s}.", "Scale {s} down.", "Add more replicas to {s}.", "{s} needs more pods.",
                         "Scale up the {s} deployment.", "Give {s} more capacity."],
    "no tool for that action": ["Roll back {s} to the previous version.", "Delete the {s} deployment.",
                                "Deploy {s} to production.", "Rotate the credentials for {s}.",
                                "Create a new database for {s}.", "Merge the pull request for {s}.",
                                "Run the migrations on {s}.", "Drain node worker-7.", "Open port 8443 on the firewall.",
                                "Add a user account for the new intern.", "Renew the TLS certificate for {s}.",
                                "Change the API token of {s}.", "Revert {s} to yesterday's build.",
                                "Remove the preview environment for {s}.", "Take a backup of the {s} database.",
                                "Reset the admin password.", "Flush the cache of {s}.", "Upgrade {s} to the latest version.",
                                "Close ticket OPS-{n}.", "Silence the disk alerts for an hour."],
}

# --------------------------------------------------------------------------

GENERATORS = {
    "track_order": gen_track_order, "request_refund": gen_request_refund, "update_address": gen_update_address,
    "escalate": gen_escalate, "get_service_status": gen_get_service_status,
    "restart_service": gen_restart_service, "scale_deployment": gen_scale_deployment,
    "query_logs": gen_query_logs, "page_oncall": gen_page_oncall, "create_ticket": gen_create_ticket,
}


# Composed small talk and questions, so that no_tool is learned from many shapes and not from a few strings.
GREET_HEADS = ["Hi", "Hello", "Hey", "Morning", "Good afternoon", "Evening", "Hiya", "Howdy", "Hey there", "Yo"]
GREET_WHO = {"support": ["", "", " there", " folks", " support", " team", " you lovely people"],
             "devops": ["", "", " all", " folks", " everyone", " team", " people", " on-call crew"]}
GREET_TAILS = ["", "", "!", "! Hope you're well.", ", hope your day is going fine.", ". Quiet day so far?",
               "! Happy Monday.", ", just saying hi.", ". Lunch anyone?", "! Long week, huh?",
               ", anyone else enjoying the sunshine?", ". Just checking in.", "! Hope the weekend was good.",
               ", how are things?", ". Coffee machine is fixed, by the way."]
THANKS = ["Thanks", "Thank you", "Cheers", "Many thanks", "Thanks a lot", "Great, thanks", "Brilliant, thank you",
          "Perfect", "Awesome, cheers", "Lovely, thanks"]
THANKS_TAILS = ["", "!", ", that sorted it.", ", all good now.", " for the help.", ", nothing else for now.",
                ", have a good one!", ", you've been very helpful.", ", problem solved.", ", that's everything."]
QUESTION_FORMS = ["How does {x} work?", "Can you explain {x}?", "What is {x}, exactly?", "Why do we have {x}?",
                  "Is there documentation about {x}?", "Who decides {x}?", "Quick question: how does {x} work?",
                  "I'm curious, what's the deal with {x}?", "Could you tell me more about {x}?"]
QUESTION_TOPICS = {
    "support": ["your refund policy", "partial refunds", "express shipping", "the returns process", "order numbers",
                "delivery times to Spain", "gift cards", "price matching", "your warranty", "customs fees",
                "the loyalty points", "address changes after dispatch", "escalations to a manager"],
    "devops": ["the severity levels", "the paging policy", "log retention", "force restarts", "autoscaling",
               "ticket labels", "the incident process", "replica counts", "our deploy freeze", "error budgets",
               "the runbooks", "log levels", "on-call handovers", "service health checks"],
}


def composed_no_tool(rng, kind):
    r = rng.random()
    if r < 0.4:
        text = pick(rng, GREET_HEADS) + pick(rng, GREET_WHO[kind]) + pick(rng, GREET_TAILS)
        return text, "greeting, no action needed"
    if r < 0.65:
        return pick(rng, THANKS) + pick(rng, THANKS_TAILS), "thanks, no action needed"
    return pick(rng, QUESTION_FORMS).format(x=pick(rng, QUESTION_TOPICS[kind])), "question, answer directly"


def gen_no_tool(rng, tool_names):
    kind = "support" if "track_order" in tool_names else "devops"
    if rng.random() < 0.35:
        text, reason = composed_no_tool(rng, kind)
        return finish(text, rng), {"tool": "no_tool", "reason": reason}
    pool = SUPPORT_NO_TOOL if kind == "support" else DEVOPS_NO_TOOL
    reason = pick(rng, list(pool))
    text = pick(rng, pool[reason]).format(o=order_id(rng), s=service(rng), n=rng.randint(100, 9999))
    style = new_style(rng)
    if style["lower"]:
        text = text.lower() if "{" not in text else text
    return finish(text, rng), {"tool": "no_tool", "reason": reason}


def make_rows(tool_names, n, no_tool_frac, rng):
    missing = [t for t in tool_names if t not in GENERATORS]
    if missing:
        sys.exit(f"no generator for tools: {missing}")
    rows, seen = [], set()
    n_none = round(n * no_tool_frac)
    plan = ["no_tool"] * n_none + [tool_names[i % len(tool_names)] for i in range(n - n_none)]
    rng.shuffle(plan)
    for tool in plan:
        for _ in range(50):  # avoid exact duplicate prompts
            if tool == "no_tool":
                prompt, target = gen_no_tool(rng, tool_names)
            else:
                prompt, args = GENERATORS[tool](rng)
                prompt, target = finish(prompt, rng), {"tool": tool, "arguments": args}
            if prompt not in seen:
                break
        seen.add(prompt)
        rows.append({"prompt": prompt, "target": target})
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--catalogue", required=True)
    ap.add_argument("--rows", type=int, default=600)
    ap.add_argument("--no-tool-frac", type=float, default=0.15)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    ap.add_argument("--toolrouter", default=os.path.join(os.path.dirname(__file__), "..", ".build", "release", "toolrouter"))
    args = ap.parse_args()
    with open(args.catalogue) as f:
        tool_names = [t["function"]["name"] for t in json.load(f)]
    rows = make_rows(tool_names, args.rows, args.no_tool_frac, random.Random(args.seed))
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    counts = {}
    for r in rows:
        counts[r["target"]["tool"]] = counts.get(r["target"]["tool"], 0) + 1
    print(f"{args.out}: {len(rows)} rows {counts}", file=sys.stderr)
    if os.path.exists(args.toolrouter):  # schema check of every target, by the daemon's own validator
        subprocess.run([args.toolrouter, "render-prompt", "--catalogue", args.catalogue, "--rows", args.out],
                       check=True, stdout=subprocess.DEVNULL)
        print("render-prompt: all targets valid", file=sys.stderr)


if __name__ == "__main__":
    main()
