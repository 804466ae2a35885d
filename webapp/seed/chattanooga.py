"""Geography, departments and services of the Chattanooga demo city (approximate)."""

CITY_NAME = "Chattanooga"

# (long, lat) pairs, roughly following the city limits around the river bend.
CITY_BOUNDARY = [
    (-85.420, 35.050),
    (-85.395, 34.984),
    (-85.200, 34.983),
    (-85.060, 34.986),
    (-85.045, 35.100),
    (-85.120, 35.185),
    (-85.250, 35.170),
    (-85.365, 35.120),
    (-85.420, 35.050),
]

NEIGHBORHOODS = {
    "Downtown": (35.035, -85.320, 35.060, -85.295),
    "North Shore": (35.060, -85.320, 35.080, -85.290),
    "Highland Park": (35.020, -85.295, 35.045, -85.270),
    "St. Elmo": (34.990, -85.345, 35.015, -85.315),
    "East Lake": (34.995, -85.285, 35.020, -85.255),
    "Brainerd": (35.000, -85.220, 35.040, -85.170),
}

DEPARTMENTS = [
    ("Public Works", "publicworks@chattanooga.example", "423-555-0101"),
    ("Transportation", "transportation@chattanooga.example", "423-555-0102"),
    ("Parks and Outdoors", "parks@chattanooga.example", "423-555-0103"),
    ("Neighborhood Services", "neighborhoods@chattanooga.example", "423-555-0104"),
]

SIZE = [
    {"key": "small", "name": "Smaller than a dinner plate"},
    {"key": "medium", "name": "About the size of a car tire"},
    {"key": "large", "name": "Larger than a car tire"},
]
LANE = [
    {"key": "travel", "name": "In a travel lane"},
    {"key": "turn", "name": "In a turn lane"},
    {"key": "shoulder", "name": "On the shoulder or curb"},
    {"key": "crosswalk", "name": "In a crosswalk"},
]
PROPERTY = [
    {"key": "public", "name": "Public property (street, sign, park)"},
    {"key": "private", "name": "Private property (a house, a business)"},
]
LIGHT_PROBLEM = [
    {"key": "out", "name": "Light is out"},
    {"key": "flickering", "name": "Light flickers"},
    {"key": "day", "name": "Light is on during the day"},
]
YES_NO = [{"key": "yes", "name": "Yes"}, {"key": "no", "name": "No"}]

# code, name, group, department, sla_days, keywords, description, attributes
SERVICES = [
    (
        "pothole",
        "Pothole",
        "Streets",
        "Public Works",
        5,
        "hole,road,street,asphalt",
        "A hole or broken pavement in a street.",
        [
            ("size", "singlevaluelist", True, "How big is it?", SIZE),
            ("lane", "singlevaluelist", False, "Where on the road is it?", LANE),
        ],
    ),
    (
        "sidewalk",
        "Damaged sidewalk",
        "Streets",
        "Public Works",
        30,
        "trip,crack,curb",
        "Cracked, raised or missing sidewalk.",
        [],
    ),
    (
        "streetlight",
        "Streetlight out",
        "Streets",
        "Transportation",
        7,
        "light,lamp,dark,pole",
        "A streetlight that is out, flickering or on by day.",
        [
            ("problem", "singlevaluelist", True, "What is wrong with the light?", LIGHT_PROBLEM),
            (
                "pole_number",
                "string",
                False,
                "Pole number, if you can see one (a metal tag on the pole)",
                [],
            ),
        ],
    ),
    (
        "traffic_signal",
        "Traffic signal problem",
        "Streets",
        "Transportation",
        1,
        "signal,stoplight,traffic light",
        "A traffic light that is dark, stuck or damaged.",
        [],
    ),
    (
        "street_sign",
        "Damaged street sign",
        "Streets",
        "Transportation",
        14,
        "sign,stop sign,bent",
        "A missing, bent or unreadable street or traffic sign.",
        [],
    ),
    (
        "graffiti",
        "Graffiti",
        "Neighborhood",
        "Neighborhood Services",
        10,
        "paint,tag,vandalism",
        "Graffiti on a wall, sign or other surface.",
        [
            ("property", "singlevaluelist", True, "Is it on public or private property?", PROPERTY),
            ("offensive", "singlevaluelist", False, "Is it offensive or hateful?", YES_NO),
        ],
    ),
    (
        "illegal_dumping",
        "Illegal dumping",
        "Neighborhood",
        "Neighborhood Services",
        7,
        "trash,junk,tires,mattress",
        "Trash, tires or furniture dumped where it should not be.",
        [],
    ),
    (
        "overgrown_lot",
        "Overgrown lot",
        "Neighborhood",
        "Neighborhood Services",
        21,
        "weeds,grass,vacant",
        "Tall weeds or grass on a vacant lot.",
        [],
    ),
    (
        "abandoned_vehicle",
        "Abandoned vehicle",
        "Neighborhood",
        "Neighborhood Services",
        14,
        "car,truck,parked",
        "A vehicle that has not moved for a long time.",
        [("plate", "string", False, "License plate, if visible", [])],
    ),
    (
        "missed_trash",
        "Missed trash pickup",
        "Trash and recycling",
        "Public Works",
        2,
        "garbage,bin,collection",
        "Your trash or recycling was not picked up on schedule.",
        [],
    ),
    (
        "dead_animal",
        "Dead animal",
        "Trash and recycling",
        "Public Works",
        2,
        "roadkill,animal",
        "A dead animal on a street or sidewalk.",
        [],
    ),
    (
        "park_maintenance",
        "Park maintenance",
        "Parks",
        "Parks and Outdoors",
        10,
        "playground,bench,park",
        "Broken equipment, litter or damage in a city park.",
        [],
    ),
    (
        "fallen_tree",
        "Fallen tree or limb",
        "Parks",
        "Parks and Outdoors",
        3,
        "tree,branch,limb,storm",
        "A tree or large limb down on a street, sidewalk or park.",
        [],
    ),
]

DESCRIPTIONS = {
    "pothole": [
        "Deep pothole near the intersection, cars swerving around it.",
        "Pavement broken up in the right lane.",
        "Pothole keeps getting bigger after rain.",
    ],
    "sidewalk": [
        "Sidewalk slab raised about two inches, tripping hazard.",
        "Broken sidewalk near the bus stop.",
    ],
    "streetlight": [
        "Streetlight out for a week, the corner is very dark.",
        "Light flickers all night.",
    ],
    "traffic_signal": ["Signal stuck on red for the side street.", "Walk signal not working."],
    "street_sign": ["Stop sign bent over after a crash.", "Street name sign missing."],
    "graffiti": ["Graffiti on the retaining wall.", "Tags on the underpass."],
    "illegal_dumping": [
        "Pile of tires dumped in the alley.",
        "Mattress and furniture left by the curb.",
    ],
    "overgrown_lot": [
        "Weeds over four feet tall on the empty lot.",
        "Vacant lot overgrown, attracting rats.",
    ],
    "abandoned_vehicle": [
        "White sedan with flat tires parked for a month.",
        "Car with no plates left on the street.",
    ],
    "missed_trash": ["Our street was skipped this week.", "Recycling not picked up."],
    "dead_animal": ["Dead deer on the shoulder.", "Dead raccoon in the bike lane."],
    "park_maintenance": ["Swing broken at the playground.", "Trash cans overflowing at the park."],
    "fallen_tree": [
        "Large limb down blocking half the road.",
        "Tree fell across the sidewalk in the storm.",
    ],
}

CLOSING_NOTES = {
    "fixed": [
        "Repaired by our crew today. Thank you for reporting it.",
        "Fixed. Thanks for helping keep Chattanooga safe.",
        "Work completed and the area was cleaned up.",
    ],
    "duplicate": ["This was already reported; we are tracking it on the earlier request."],
    "referred": [
        "This is maintained by the Tennessee Department of Transportation; we passed it on."
    ],
    "cannot_locate": [
        "Our crew could not find the problem at this spot. Please report again with a photo."
    ],
    "no_action_needed": ["Inspected: this meets city standards and needs no work right now."],
}

STREETS = [
    "Market St",
    "Broad St",
    "McCallie Ave",
    "Main St",
    "Brainerd Rd",
    "Frazier Ave",
    "Tennessee Ave",
    "Dodds Ave",
    "Central Ave",
    "Bailey Ave",
    "Holtzclaw Ave",
    "Rossville Blvd",
    "Cherokee Blvd",
    "Glass St",
    "Vance Ave",
]

USERS = [
    ("admin@civic311.example", "Avery Admin", "admin", None, None),
    ("staff@civic311.example", "Sam Staff", "staff", None, "Public Works"),
    ("staff2@civic311.example", "Taylor Traffic", "staff", None, "Transportation"),
    ("liaison@civic311.example", "Lee Liaison", "liaison", "Highland Park", None),
    ("liaison2@civic311.example", "Morgan Liaison", "liaison", "Brainerd", None),
    ("resident@civic311.example", "Riley Resident", "resident", None, None),
]
DEMO_PASSWORD = "civic311-demo"
