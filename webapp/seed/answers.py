"""The demo city's knowledge answers: what residents ask 311 most, in plain language.

Each entry: slug, title, summary, keywords, service codes, topics, Markdown body. The
figures are the demo city's; a real city replaces them from its own service catalog.
Their Spanish lives in ``answers_es.py`` and is seeded with them.
"""

from __future__ import annotations

from sqlalchemy import select

from webapp.domain.intake import answers as answers_domain
from webapp.models import Answer, Service
from webapp.plumbing.extensions import db
from webapp.seed.answers_es import seed_answer_translations

ANSWERS = [
    (
        "how-potholes-are-repaired",
        "How potholes are repaired",
        "Most potholes are patched within five working days of a report.",
        "hole, road, asphalt, patch",
        ["pothole"],
        ["streets"],
        "Crews patch potholes in the order they are reported, but **deep holes on busy "
        "streets go first**.\n\n- A temporary cold patch is usually placed within 5 working days.\n"
        "- A permanent hot-mix repair follows in warm, dry weather.\n- Holes in state routes "
        "(for example US-27 or I-24) are repaired by TDOT, not the city: call TDOT at 1-800-342-3258.\n\n"
        "If your tire or rim was damaged, see *Claims for damage to a vehicle*.",
    ),
    (
        "vehicle-damage-claims",
        "Claims for damage to a vehicle",
        "How to ask the city to pay for a tire or rim damaged by a pothole.",
        "claim, tire, rim, reimbursement, damage",
        ["pothole"],
        ["who to call"],
        "File a claim with the City Attorney's Office within **60 days** of the damage.\n\n"
        "1. Keep the repair receipt and take photos of the damage and the spot.\n"
        "2. Fill in the claim form at City Hall, 101 E 11th St, or by mail.\n"
        "3. The city can pay only if the pothole had already been reported and was not "
        "repaired in a reasonable time, so a 311 report also helps the next driver.",
    ),
    (
        "sidewalk-repair-who-pays",
        "Who repairs a broken sidewalk?",
        "The city repairs sidewalks on public right-of-way; trip hazards go first.",
        "sidewalk, trip, crack, curb",
        ["sidewalk"],
        ["streets"],
        "The city inspects every reported sidewalk within 10 working days.\n\n- Raised edges "
        "over 1 inch are ground down or marked the same week.\n- Full panel replacement is "
        "scheduled by priority near schools, bus stops and hospitals.\n- Damage caused by "
        "construction is repaired by the contractor who holds the permit.",
    ),
    (
        "streetlight-out",
        "A streetlight is out or flickering",
        "Report it with the pole number; most lights are fixed within a week.",
        "light, lamp, dark, pole number",
        ["streetlight"],
        ["streets"],
        "Look for the **pole number** on a small tag about eye height: it lets the crew find "
        "the exact light.\n\n- City lights are repaired within 7 days.\n- Lights on wooden "
        "utility poles along private roads belong to EPB: call 423-648-1372.\n- A pole that is "
        "leaning or has exposed wires is an emergency: call 911.",
    ),
    (
        "traffic-signal-dark",
        "A traffic signal is dark or stuck",
        "Treat a dark signal as an all-way stop and report it at once.",
        "traffic light, signal, intersection, flashing",
        ["traffic_signal"],
        ["streets"],
        "A dark or flashing signal is treated as an **all-way stop**.\n\n- Signal technicians "
        "are on call day and night; most signals are restored within 4 hours.\n- If a signal "
        "pole is knocked down or wires are in the road, call 911 first.",
    ),
    (
        "street-sign-missing",
        "A stop sign or street sign is missing or bent",
        "Missing stop and yield signs are replaced the same day.",
        "sign, stop sign, street name",
        ["street_sign"],
        ["streets"],
        "Stop, yield and do-not-enter signs are **replaced the same day**, day or night. "
        "Street name signs and other signs are repaired within 10 working days. Tell us which "
        "corner and which direction the sign faced.",
    ),
    (
        "graffiti-removal",
        "Graffiti removal",
        "The city removes graffiti from public property free of charge.",
        "tag, spray paint, vandalism, wall",
        ["graffiti"],
        ["neighborhood"],
        "- Graffiti on **public property** (signs, bridges, park buildings) is removed within "
        "10 working days; offensive graffiti within 1 day.\n- On **private property**, the city "
        "can remove it for free once the owner signs a consent form.\n- If you see someone "
        "tagging, call the police non-emergency line at 423-698-2525.",
    ),
    (
        "illegal-dumping",
        "Illegal dumping",
        "Report dumped trash, tires or furniture; fines run up to $3,000.",
        "dumping, trash pile, tires, mattress",
        ["illegal_dumping"],
        ["trash days", "neighborhood"],
        "Dumped material on public land is picked up within 5 working days. On private land "
        "the owner is given 10 days to clean it up.\n\nIf you saw the dumping, tell us the "
        "vehicle, its plate and the time: illegal dumping is fined up to $3,000.",
    ),
    (
        "overgrown-lots",
        "Tall grass and weeds on a vacant lot",
        "Grass over 12 inches on a lot is a code violation.",
        "weeds, grass, lot, mowing, code enforcement",
        ["overgrown_lot"],
        ["neighborhood"],
        "Grass or weeds **taller than 12 inches** are a code violation. A code inspector "
        "visits within 10 working days and gives the owner 10 days to mow. If they do not, "
        "the city mows and bills the owner.",
    ),
    (
        "abandoned-vehicles",
        "Abandoned vehicles",
        "A vehicle parked on a street more than 72 hours can be towed.",
        "car, truck, parked, tow, junk",
        ["abandoned_vehicle"],
        ["neighborhood"],
        "A vehicle left on a public street for **more than 72 hours** is tagged by the police "
        "and towed if it does not move within 3 days. Vehicles on private property are handled "
        "by code enforcement when they are inoperable or unlicensed. Tell us the make, colour "
        "and plate.",
    ),
    (
        "trash-collection-day",
        "Which day is my trash collected?",
        "Trash is collected once a week; recycling every other week.",
        "garbage, rubbish, bins, cart, schedule, pickup day",
        ["missed_trash"],
        ["trash days"],
        "Trash is collected **once a week** on your route's day, recycling **every other "
        "week**.\n\n- Put your cart at the curb by **6 am**, handle facing the street.\n"
        "- Keep 3 feet between carts and from cars or mailboxes.\n- Holidays move collection "
        "by one day for the rest of that week.",
    ),
    (
        "missed-trash-pickup",
        "My trash was not picked up",
        "Report a missed pickup by the end of the next working day.",
        "missed, garbage, recycling, not collected",
        ["missed_trash"],
        ["trash days"],
        "If your cart was out by 6 am and not emptied, report it **by the end of the next "
        "working day**; the crew returns within 1 working day. Carts that were late, "
        "overfilled (lid not closed) or blocked by a car are not collected again.",
    ),
    (
        "holiday-trash-schedule",
        "Trash collection on holidays",
        "Collection slides one day after New Year's Day, July 4, Thanksgiving and Christmas.",
        "holiday, christmas, thanksgiving, schedule",
        ["missed_trash"],
        ["trash days"],
        "On **New Year's Day, Independence Day, Thanksgiving and Christmas** collection moves "
        "one day later for the rest of the week (Friday routes are collected on Saturday). On "
        "other holidays collection is as usual.",
    ),
    (
        "new-or-broken-trash-cart",
        "A new or replacement trash cart",
        "Damaged or stolen carts are replaced free of charge.",
        "cart, bin, broken, stolen, lid, wheels",
        ["missed_trash"],
        ["trash days"],
        "Broken, cracked or stolen city carts are **replaced free** within 10 working days. "
        "New homes get their first cart free; a second trash cart costs $75.",
    ),
    (
        "bulky-item-pickup",
        "Bulky item pickup",
        "Sofas, mattresses and appliances are picked up free once a month.",
        "couch, sofa, furniture, mattress, fridge, appliance",
        ["illegal_dumping", "missed_trash"],
        ["bulky pickup", "trash days"],
        "Book a **free bulky pickup** by calling 311: up to **5 large items** a month.\n\n"
        "- Put the items at the curb the evening before, not on the sidewalk.\n- Fridges and "
        "freezers must have their doors removed.\n- Not taken: tires, paint, car parts, "
        "construction debris (see *Household hazardous waste*).",
    ),
    (
        "household-hazardous-waste",
        "Paint, batteries and other hazardous waste",
        "Take them to the household hazardous waste center, free for residents.",
        "paint, oil, battery, chemicals, electronics, tires",
        ["illegal_dumping"],
        ["trash days"],
        "Never put paint, motor oil, batteries or chemicals in your cart. Take them to the "
        "**Household Hazardous Waste Center, 4063 N Access Rd**, open Wednesday to Saturday, "
        "8 am to 4 pm. Free for residents with proof of address. Up to 4 tires a year are "
        "accepted there too.",
    ),
    (
        "yard-waste-brush",
        "Yard waste and brush collection",
        "Bagged leaves and brush under 6 feet are collected on your trash day.",
        "leaves, branches, brush, yard, limbs",
        ["fallen_tree"],
        ["trash days"],
        "Put **bagged leaves** and **bundled brush** (pieces under 6 feet long and 6 inches "
        "across) at the curb on your trash day. Loose leaves are vacuumed in November and "
        "December by neighborhood.",
    ),
    (
        "dead-animal-pickup",
        "A dead animal on the street",
        "Dead animals on public streets are removed within 1 working day.",
        "deer, dog, cat, roadkill, carcass",
        ["dead_animal"],
        ["who to call"],
        "Animals on **streets and sidewalks** are removed within 1 working day. For an animal "
        "on your own property, bag it and put it in your trash cart, or call 311 for a $25 "
        "pickup. For a **live injured animal**, call animal services at 423-305-6500.",
    ),
    (
        "park-maintenance",
        "Broken playground equipment or park damage",
        "Unsafe playground equipment is taped off the same day.",
        "playground, swing, bench, restroom, park",
        ["park_maintenance"],
        ["parks"],
        "Unsafe playground equipment is **closed off the same day** and repaired as parts "
        "allow. Litter, broken benches and restroom problems are handled within 5 working "
        "days. Tell us the park's name and where in the park the problem is.",
    ),
    (
        "park-shelter-reservations",
        "Reserving a park pavilion",
        "Pavilions can be reserved online up to a year ahead.",
        "pavilion, picnic, shelter, reserve, party",
        ["park_maintenance"],
        ["parks", "permits"],
        "Pavilions can be reserved **up to 12 months ahead** through Parks and Outdoors, "
        "from $40 for half a day. Unreserved pavilions are first come, first served.",
    ),
    (
        "fallen-tree",
        "A tree or large limb has fallen",
        "Trees blocking a street are cleared within hours; report it at once.",
        "tree, limb, branch, storm, blocked",
        ["fallen_tree"],
        ["parks", "streets"],
        "A tree or limb **blocking a street** is cleared the same day, day or night. Trees on "
        "private property are the owner's responsibility, even when they fall into the street; "
        "the city clears only the street. **Lines down? Stay away and call EPB at "
        "423-648-1372.**",
    ),
    (
        "tree-trimming-request",
        "Trimming a city tree",
        "Trees between the sidewalk and the street are trimmed by the city.",
        "trim, prune, tree, branches, sign blocked",
        ["fallen_tree", "street_sign"],
        ["parks"],
        "The city trims trees on the **right-of-way** (usually between the sidewalk and the "
        "curb) when they block signs, lights or sidewalks, or hang below 14 feet over the "
        "street. Ask for an inspection; the forester decides within 20 working days.",
    ),
    (
        "building-permits",
        "Do I need a building permit?",
        "Most work beyond repairs needs a permit: decks, fences over 6 feet, roofs.",
        "permit, building, deck, fence, roof, renovation",
        [],
        ["permits"],
        "You need a permit for **new structures, decks, fences over 6 feet, roofs, and any "
        "electrical, plumbing or mechanical work**. Painting, flooring and like-for-like repairs "
        "need none. Apply at the Development Resource Center, 1250 Market St, or online; most "
        "residential permits are issued within 5 working days.",
    ),
    (
        "yard-sale-permit",
        "Yard sale rules",
        "No permit is needed for up to 3 yard sales a year.",
        "garage sale, yard sale, signs",
        [],
        ["permits"],
        "You may hold **3 yard sales a year**, each up to 3 days, without a permit. Signs may "
        "not be put on utility poles or traffic signs (they are removed as litter).",
    ),
    (
        "noise-complaints",
        "Loud noise or a barking dog",
        "Call the police non-emergency line for noise happening now.",
        "noise, music, party, barking, dog",
        [],
        ["who to call", "neighborhood"],
        "For noise **happening now**, call the police non-emergency line at 423-698-2525. "
        "Quiet hours are 10 pm to 7 am. For a dog that barks for long periods, animal "
        "services can send a warning letter: call 423-305-6500.",
    ),
    (
        "water-sewer-problems",
        "Water leaks and sewer backups",
        "Water and sewer are run by other utilities; here is who to call.",
        "water, leak, sewer, backup, main break, hydrant",
        [],
        ["who to call"],
        "- **Water main breaks and leaks**: Tennessee American Water, 1-866-736-6420 (24 h).\n"
        "- **Sewer backups and manhole overflows**: the city's wastewater line, 423-643-6311.\n"
        "- **Flooding streets or a blocked storm drain**: report it to 311.",
    ),
    (
        "who-to-call",
        "Who to call for what",
        "311 for city services, 911 for emergencies, and the numbers for everything else.",
        "phone numbers, emergency, police, utilities, 911",
        [],
        ["who to call"],
        "- **Emergencies** (fire, crime in progress, wires down, a signal pole in the road): 911\n"
        "- **City services** (streets, trash, parks, code): 311 or 423-643-6311\n"
        "- **Police, non-emergency**: 423-698-2525\n- **Power**: EPB, 423-648-1372\n"
        "- **Water**: Tennessee American Water, 1-866-736-6420\n- **State highways**: TDOT, "
        "1-800-342-3258",
    ),
    (
        "how-311-works",
        "What happens after I report?",
        "You get a number, then news at each step until the request is closed.",
        "status, tracking, number, follow, notification",
        [],
        ["who to call"],
        "1. You get a request number (like 311-000123) and a page to follow it.\n2. The right "
        "department acknowledges it, usually within 2 working days.\n3. You are told when work "
        "starts and when it is closed, with a note from the crew.\n\nIf it was not really "
        "fixed, you can reopen it within 30 days.",
    ),
]


def seed_answers() -> int:
    """Create the demo answers that do not exist yet (by slug), with their Spanish;
    returns how many were created."""
    services = {s.service_code: s.id for s in db.session.scalars(select(Service))}
    existing = set(db.session.scalars(select(Answer.slug)))
    created = 0
    for slug, title, summary, keywords, codes, topics, body in ANSWERS:
        if slug in existing:
            continue
        answers_domain.save(
            slug=slug,
            title=title,
            summary=summary,
            keywords=keywords,
            body=body,
            service_ids=[services[c] for c in codes if c in services],
            topics=topics,
        )
        created += 1
    db.session.flush()
    seed_answer_translations()
    return created
