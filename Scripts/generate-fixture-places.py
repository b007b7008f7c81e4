#!/usr/bin/env python3
"""Generate Sources/Providers/Resources/ucla-places.json, the offline place fixture.

Every place is invented (names, ids, ratings), but each one sits on a real street
around UCLA / Westwood, Los Angeles, with a street number that fits its position,
so the fixture reads like a Google Places Nearby Search (legacy) response.
Places are dense on campus and in Westwood Village and thin out towards Century
City, Beverly Hills, Brentwood, Sawtelle, Palms, Culver City, Santa Monica and
the coast (about 12 km away at most).

Deterministic: standard library only, a fixed seed, no network. Running it twice
gives byte-identical output. Usage (from anywhere):

    python3 Scripts/generate-fixture-places.py [output-path]
"""

import json
import math
import os
import random
import sys

SEED = 20240611
OUTPUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)),
    "..", "Sources", "Providers", "Resources", "ucla-places.json",
)

# The point the fixture is built around (UCLA, as in `+34.068930-118.445127`).
CENTRE_LAT, CENTRE_LNG = 34.068930, -118.445127
EARTH_RADIUS_M = 6371008.8

# --------------------------------------------------------------------------------------
# Open Location Code (plus code) encoding, 10 digits ("8+2"), exact integer arithmetic.
# --------------------------------------------------------------------------------------

OLC_ALPHABET = "23456789CFGHJMPQRVWX"


def olc_encode(lat, lng):
    """The 10-digit global plus code for a point given with at most 7 decimals."""
    lat_e7 = max(-900000000, min(900000000, round(lat * 10**7)))
    lng_e7 = round(lng * 10**7)
    lng_e7 = (lng_e7 + 1800000000) % 3600000000 - 1800000000
    # Units of 1/8000 degree (the size of the fifth pair's cells), floored.
    lat_units = (lat_e7 + 900000000) * 8000 // 10**7
    lng_units = (lng_e7 + 1800000000) * 8000 // 10**7
    lat_units = min(lat_units, 180 * 8000 - 1)  # latitude 90 falls in the top cell
    lat_digits, lng_digits = [], []
    for _ in range(5):
        lat_digits.append(OLC_ALPHABET[lat_units % 20])
        lng_digits.append(OLC_ALPHABET[lng_units % 20])
        lat_units //= 20
        lng_units //= 20
    lat_digits.reverse()
    lng_digits.reverse()
    code = "".join(a + b for a, b in zip(lat_digits, lng_digits))
    return code[:8] + "+" + code[8:]


# Vectors from google/open-location-code test_data/encoding.csv (10-digit cases).
for _lat, _lng, _code in [
    (20.3700625, 2.7821875, "7FG49QCJ+2V"),
    (47.0000625, 8.0000625, "8FVC2222+22"),
    (-41.2730625, 174.7859375, "4VCPPQGP+Q9"),
    (-89.9999375, -179.9999375, "22222222+22"),
    (90, 1, "CFX3X2X2+X2"),
    (1.2, 3.4, "6FH56C22+22"),
    (35.6, 3.033, "8F75J22M+26"),
    (66.89, -106, "95RPV2R2+22"),
    (-37.014, -159.936, "43J2X3P7+CJ"),
    (10.734, -168.294, "722HPPM4+JC"),
    (-25.798, -59.812, "5862652Q+R6"),
    (-18.32, 96.397, "5MHRM9JW+2R"),
]:
    assert olc_encode(_lat, _lng) == _code, (_lat, _lng, olc_encode(_lat, _lng), _code)

# --------------------------------------------------------------------------------------
# Kinds of place: Google types, icon, the nouns a name can end with, and a base weight.
# --------------------------------------------------------------------------------------

ICON = "https://maps.gstatic.com/mapfiles/place_api/icons/v1/png_71/{}-71.png"
POI = ["point_of_interest", "establishment"]

KINDS = {
    "restaurant": (["restaurant", "food"], "restaurant", [
        "Noodle House", "Kitchen", "Grill", "Trattoria", "Taqueria", "Ramen Bar",
        "Sushi Counter", "Bistro", "Kebab House", "Dumpling House", "Pho Shop",
        "Burger Stand", "Pizzeria", "Thai Kitchen", "Curry House", "Poke Bar",
        "Falafel Co.", "Brasserie", "Izakaya", "Korean BBQ", "Mediterranean Grill",
        "Persian Kitchen", "Diner", "Cantina", "Rotisserie", "Udon House",
        "Dim Sum Parlor", "Salad Co.", "Smokehouse", "Osteria", "Chophouse",
        "Tapas Bar", "Crêperie", "Biryani House", "Hand Roll Bar", "Steakhouse",
    ], 30),
    "takeaway": (["meal_takeaway", "restaurant", "food"], "restaurant", [
        "Sandwich Shop", "Burrito Window", "Pizza by the Slice", "Wings", "Teriyaki",
        "Bowl Co.", "Wraps", "Hot Dogs", "Empanadas", "Fried Chicken",
    ], 7),
    "cafe": (["cafe", "food"], "cafe", [
        "Coffee", "Espresso Bar", "Tea House", "Coffee Roasters", "Café", "Boba Lab",
        "Matcha Bar", "Coffee House", "Juice Bar", "Tea Room", "Coffee Co.",
    ], 15),
    "bakery": (["bakery", "cafe", "food", "store"], "cafe", [
        "Bakery", "Bagels", "Donuts", "Patisserie", "Bake Shop", "Cookie Co.",
    ], 5),
    "bar": (["bar"], "bar", [
        "Tap Room", "Wine Bar", "Pub", "Cocktail Lounge", "Beer Garden", "Sports Bar",
        "Alehouse",
    ], 6),
    "books": (["book_store", "store"], "shopping", [
        "Books", "Booksellers", "Comics & Games", "Used Books", "Textbook Exchange",
    ], 3),
    "clothing": (["clothing_store", "store"], "shopping", [
        "Outfitters", "Boutique", "Apparel", "Vintage", "Denim Co.", "Threads",
    ], 6),
    "shoes": (["shoe_store", "clothing_store", "store"], "shopping", [
        "Shoe Co.", "Sneaker Lab", "Footwear",
    ], 2),
    "jewelry": (["jewelry_store", "store"], "shopping", ["Jewelers", "Fine Jewelry"], 1),
    "market": (["grocery_or_supermarket", "supermarket", "food", "store"], "shopping", [
        "Market", "Grocers", "Produce", "Corner Market",
    ], 3),
    "convenience": (["convenience_store", "food", "store"], "shopping", [
        "Mini Mart", "Quick Stop",
    ], 2),
    "liquor": (["liquor_store", "store"], "shopping", ["Wine & Spirits", "Bottle Shop"], 1),
    "pharmacy": (["pharmacy", "health", "store"], "shopping", ["Pharmacy", "Apothecary"], 2),
    "florist": (["florist", "store"], "shopping", ["Flowers", "Florist"], 1),
    "electronics": (["electronics_store", "store"], "shopping", [
        "Phone Repair", "Electronics", "Computer Repair",
    ], 2),
    "bicycle": (["bicycle_store", "store"], "shopping", ["Bike Shop", "Cyclery"], 1),
    "pets": (["pet_store", "store"], "shopping", ["Pet Supply", "Dog Wash"], 1),
    "gym": (["gym", "health"], "generic_business", [
        "Fitness", "Yoga Studio", "Pilates", "Climbing Gym", "Boxing Club", "Cycle Studio",
    ], 4),
    "salon": (["hair_care", "beauty_salon"], "generic_business", [
        "Barbers", "Hair Studio", "Salon", "Blowout Bar",
    ], 4),
    "spa": (["spa", "beauty_salon"], "generic_business", ["Nail Spa", "Day Spa", "Massage"], 2),
    "laundry": (["laundry"], "generic_business", ["Laundromat", "Dry Cleaners"], 1),
    "bank": (["bank", "finance"], "bank_dollar", [
        "Community Bank", "Credit Union", "Savings Bank", "Trust Bank",
    ], 2),
    "office": (["real_estate_agency"], "generic_business", ["Realty", "Properties"], 1),
    "lawyer": (["lawyer"], "generic_business", ["Law Group", "Legal Partners"], 1),
    "insurance": (["insurance_agency", "finance"], "generic_business", ["Insurance Agency"], 1),
    "accounting": (["accounting", "finance"], "generic_business", [
        "Tax & Accounting", "CPA Group",
    ], 1),
    "dentist": (["dentist", "health"], "doctor", ["Dental Group", "Family Dentistry"], 2),
    "doctor": (["doctor", "health"], "doctor", [
        "Medical Group", "Family Clinic", "Eye Care", "Urgent Care", "Dermatology",
    ], 2),
    "physio": (["physiotherapist", "health"], "doctor", ["Physical Therapy", "Sports Rehab"], 1),
    "school": (["school"], "school", [
        "Learning Center", "Language Institute", "Montessori", "Test Prep",
        "Music Academy", "Tutoring", "Coding School", "Art School",
    ], 3),
    "museum": (["museum", "tourist_attraction"], "museum", [
        "Museum of Art", "History Museum", "Science Gallery",
    ], 1),
    "gallery": (["art_gallery"], "generic_business", ["Gallery", "Art Space", "Print Studio"], 1),
    "park": (["park"], "park", ["Park", "Pocket Park", "Community Garden", "Dog Park", "Playground"], 2),
    "lodging": (["lodging"], "lodging", ["Inn", "Hotel", "Suites", "Guest House"], 2),
    "cinema": (["movie_theater"], "movies", ["Cinema", "Theatre"], 1),
    "church": (["church", "place_of_worship"], "worship_general", [
        "Community Church", "Chapel", "Fellowship",
    ], 1),
}

# --------------------------------------------------------------------------------------
# Areas: real streets as straight segments (lat, lng, street number at each end), the
# words names there may start with, how many places, and which kinds are more common.
# --------------------------------------------------------------------------------------

GENERAL_PREFIXES = [
    "Jacaranda", "Sycamore", "Blue Heron", "Marigold", "Golden Hour", "Sunset", "Canyon",
    "Pacific", "Palm Court", "Laurel", "Saffron", "Olive & Vine", "Juniper", "Coyote",
    "Sage", "Cypress", "Rosewood", "Sandstone", "Lantern", "Copper Pot", "Eucalyptus",
    "Orchid", "Persimmon", "Bamboo", "Fig Tree", "Pomegranate", "Lemon Grove", "Driftwood",
    "Seabreeze", "Hummingbird", "Poppy", "Agave", "Red Door", "Mission", "Silverleaf",
]

# Kinds whose names never read "<someone>'s ...".
IMPERSONAL_KINDS = {"park", "church", "museum", "bank", "cinema", "doctor", "lodging", "physio",
                    "school", "dentist", "accounting", "lawyer", "insurance"}

GIVEN_NAMES = [
    "Nina", "Kenji", "Mara", "Omid", "Lucia", "Dario", "Priya", "Theo", "Soo-jin", "Leila",
    "Marco", "Ana", "Farid", "Hana", "Juno", "Ravi", "Bea", "Ramón", "Yuki", "Sam",
    "Dina", "Oscar", "Iris", "Arash", "Mei", "Luca", "Rosa", "Cyrus", "Ellie", "Nico",
]

AREAS = [
    {
        "key": "campus", "city": "Los Angeles", "count": 24,
        "prefixes": ["Bruin Plaza", "Bruin Walk", "Westwood Plaza", "Blue & Gold", "Bruin",
                     "Campus", "Quad", "Sculpture Garden", "Court of Sciences", "Janss Steps"],
        "streets": [
            ("Westwood Plaza", (34.0725, -118.4447, 200), (34.0646, -118.4452, 800)),
            ("Westwood Plaza", (34.0725, -118.4447, 200), (34.0646, -118.4452, 800)),
            ("Charles E Young Dr S", (34.0668, -118.4460, 400), (34.0660, -118.4410, 650)),
            ("Charles E Young Dr W", (34.0740, -118.4490, 200), (34.0685, -118.4485, 400)),
            ("Hilgard Ave", (34.0740, -118.4408, 300), (34.0680, -118.4400, 500)),
        ],
        "boost": {"cafe": 3, "restaurant": 0.6, "school": 4, "museum": 4, "books": 3,
                  "gallery": 3, "park": 2, "doctor": 2, "bar": 0, "liquor": 0, "office": 0,
                  "lawyer": 0, "insurance": 0, "accounting": 0, "church": 0, "lodging": 0.5,
                  "jewelry": 0, "laundry": 0, "pets": 0},
    },
    {
        "key": "village", "city": "Los Angeles", "count": 58,
        "prefixes": ["Westwood", "Westwood Village", "Gayley", "Gayley Avenue", "Broxton",
                     "Weyburn", "Kinross", "Lindbrook", "Le Conte", "Bruin", "Village",
                     "Holmby", "Glendon", "Tiverton", "Landfair", "Strathmore"],
        "streets": [
            ("Westwood Blvd", (34.0634, -118.4467, 900), (34.0593, -118.4442, 1100)),
            ("Westwood Blvd", (34.0634, -118.4467, 900), (34.0593, -118.4442, 1100)),
            ("Broxton Ave", (34.0636, -118.4478, 900), (34.0612, -118.4466, 1100)),
            ("Gayley Ave", (34.0638, -118.4490, 900), (34.0604, -118.4470, 1100)),
            ("Gayley Ave", (34.0700, -118.4505, 500), (34.0645, -118.4492, 880)),
            ("Le Conte Ave", (34.0640, -118.4492, 10990), (34.0632, -118.4420, 10800)),
            ("Weyburn Ave", (34.0627, -118.4486, 10990), (34.0620, -118.4430, 10850)),
            ("Kinross Ave", (34.0615, -118.4483, 10990), (34.0609, -118.4432, 10850)),
            ("Lindbrook Dr", (34.0603, -118.4478, 10990), (34.0598, -118.4418, 10800)),
            ("Glendon Ave", (34.0628, -118.4450, 1000), (34.0598, -118.4432, 1150)),
            ("Tiverton Ave", (34.0640, -118.4430, 900), (34.0615, -118.4425, 1050)),
            ("Hilgard Ave", (34.0660, -118.4405, 700), (34.0615, -118.4395, 1000)),
            ("Landfair Ave", (34.0700, -118.4520, 500), (34.0650, -118.4505, 700)),
            ("Strathmore Dr", (34.0688, -118.4503, 10900), (34.0678, -118.4545, 11050)),
        ],
        "boost": {"restaurant": 1.3, "takeaway": 1.5, "cafe": 1.3, "bar": 1.2, "cinema": 3,
                  "books": 2, "church": 0.5, "park": 0.3, "lodging": 1.5},
    },
    {
        "key": "westwood_south", "city": "Los Angeles", "count": 30,
        "prefixes": ["Little Tehran", "Shiraz", "Saffron", "Isfahan", "Persian Square",
                     "Pomegranate", "Westwood", "Midvale", "Veteran", "Wilshire", "Holmby",
                     "Ohio Avenue", "Kelton"],
        "streets": [
            ("Westwood Blvd", (34.0590, -118.4440, 1100), (34.0515, -118.4380, 1700)),
            ("Westwood Blvd", (34.0515, -118.4380, 1700), (34.0455, -118.4318, 2200)),
            ("Wilshire Blvd", (34.0570, -118.4500, 11000), (34.0592, -118.4441, 10900)),
            ("Wilshire Blvd", (34.0592, -118.4441, 10900), (34.0650, -118.4310, 10400)),
            ("Midvale Ave", (34.0575, -118.4460, 1300), (34.0505, -118.4400, 1800)),
            ("Veteran Ave", (34.0655, -118.4522, 600), (34.0575, -118.4502, 1100)),
            ("Santa Monica Blvd", (34.0465, -118.4455, 11300), (34.0520, -118.4365, 10800)),
        ],
        "boost": {"restaurant": 1.4, "bakery": 2, "market": 2, "office": 2, "dentist": 2,
                  "doctor": 2, "bank": 2, "jewelry": 2, "insurance": 2},
    },
    {
        "key": "bel_air", "city": "Los Angeles", "count": 8,
        "prefixes": ["Bel Air", "Stone Canyon", "Bellagio", "Chalon", "Copa de Oro",
                     "Canyon", "Hillcrest"],
        "streets": [
            ("Stone Canyon Rd", (34.0790, -118.4440, 500), (34.0880, -118.4450, 900)),
            ("Bellagio Rd", (34.0800, -118.4480, 10600), (34.0845, -118.4560, 10850)),
            ("Sunset Blvd", (34.0765, -118.4420, 10600), (34.0775, -118.4560, 11000)),
            ("Bel Air Rd", (34.0795, -118.4420, 100), (34.0880, -118.4410, 600)),
        ],
        "only": {"park": 3, "lodging": 3, "school": 2, "church": 2, "gallery": 1,
                 "restaurant": 1, "cafe": 1, "gym": 1, "museum": 1},
    },
    {
        "key": "century_city", "city": "Los Angeles", "count": 18,
        "prefixes": ["Century", "Constellation", "Park East", "Starline", "Century Park",
                     "Avenue of the Stars", "Skyline", "Meridian"],
        "streets": [
            ("Century Park E", (34.0625, -118.4130, 1800), (34.0540, -118.4150, 2100)),
            ("Avenue of the Stars", (34.0610, -118.4190, 1800), (34.0545, -118.4160, 2100)),
            ("Constellation Blvd", (34.0590, -118.4205, 10250), (34.0578, -118.4135, 10000)),
            ("Santa Monica Blvd", (34.0610, -118.4210, 10250), (34.0640, -118.4125, 10000)),
            ("Olympic Blvd", (34.0540, -118.4220, 10250), (34.0560, -118.4110, 10000)),
        ],
        "suites": True,
        "boost": {"bank": 5, "lawyer": 8, "insurance": 6, "accounting": 6, "office": 4,
                  "restaurant": 1.2, "cafe": 1.2, "lodging": 3, "cinema": 2, "doctor": 2,
                  "takeaway": 0.5, "bar": 0.5, "laundry": 0, "bicycle": 0, "pets": 0,
                  "school": 0.3, "church": 0},
    },
    {
        "key": "beverly_hills", "city": "Beverly Hills", "count": 20,
        "prefixes": ["Canon", "Beverly", "Crescent", "Camden", "Brighton", "Dayton",
                     "Golden Triangle", "Roxbury", "Palm Court", "Gilded"],
        "streets": [
            ("N Beverly Dr", (34.0675, -118.4005, 200), (34.0720, -118.4030, 470)),
            ("S Beverly Dr", (34.0660, -118.4000, 100), (34.0590, -118.3965, 400)),
            ("N Canon Dr", (34.0680, -118.3990, 200), (34.0725, -118.4015, 470)),
            ("N Camden Dr", (34.0683, -118.4018, 200), (34.0728, -118.4043, 470)),
            ("Wilshire Blvd", (34.0668, -118.4110, 9900), (34.0660, -118.3930, 9300)),
            ("Brighton Way", (34.0690, -118.4030, 9500), (34.0700, -118.3985, 9400)),
            ("Olympic Blvd", (34.0575, -118.4060, 9700), (34.0570, -118.3950, 9300)),
        ],
        "suites": True,
        "boost": {"clothing": 4, "jewelry": 8, "shoes": 3, "salon": 2, "spa": 3, "gallery": 4,
                  "bank": 3, "restaurant": 1.2, "lodging": 2, "dentist": 2, "doctor": 2,
                  "takeaway": 0.3, "laundry": 0, "convenience": 0, "bicycle": 0, "school": 0.3},
    },
    {
        "key": "brentwood", "city": "Los Angeles", "count": 18,
        "prefixes": ["Brentwood", "San Vicente", "Gorham", "Barrington", "Coral Tree",
                     "Bundy", "Sunset Park", "Country Lane"],
        "streets": [
            ("San Vicente Blvd", (34.0545, -118.4660, 11600), (34.0498, -118.4772, 12000)),
            ("San Vicente Blvd", (34.0545, -118.4660, 11600), (34.0498, -118.4772, 12000)),
            ("S Barrington Ave", (34.0565, -118.4665, 300), (34.0480, -118.4600, 900)),
            ("Gorham Ave", (34.0530, -118.4690, 11700), (34.0510, -118.4745, 11900)),
            ("Wilshire Blvd", (34.0548, -118.4560, 11300), (34.0432, -118.4715, 12000)),
            ("S Bundy Dr", (34.0500, -118.4750, 200), (34.0430, -118.4690, 900)),
        ],
        "boost": {"cafe": 1.5, "bakery": 2, "restaurant": 1.2, "gym": 2, "salon": 2,
                  "market": 2, "florist": 3, "pets": 3, "school": 1.5},
    },
    {
        "key": "sawtelle", "city": "Los Angeles", "count": 24,
        "prefixes": ["Sawtelle", "Sakura", "Kumo", "Hana", "Tsuki", "Yuzu", "Mochi", "Nori",
                     "Umami", "Olympic", "Little Osaka", "Pico", "Mizu"],
        "streets": [
            ("Sawtelle Blvd", (34.0455, -118.4490, 1700), (34.0330, -118.4400, 2500)),
            ("Sawtelle Blvd", (34.0455, -118.4490, 1700), (34.0330, -118.4400, 2500)),
            ("Santa Monica Blvd", (34.0390, -118.4600, 12000), (34.0465, -118.4455, 11300)),
            ("Olympic Blvd", (34.0330, -118.4550, 12000), (34.0440, -118.4360, 10900)),
            ("Pico Blvd", (34.0250, -118.4540, 11900), (34.0378, -118.4290, 10800)),
            ("Sepulveda Blvd", (34.0478, -118.4448, 1700), (34.0290, -118.4330, 2900)),
        ],
        "boost": {"restaurant": 1.8, "cafe": 1.5, "bakery": 1.5, "takeaway": 1.5,
                  "clothing": 1.5, "electronics": 2, "market": 1.5, "bank": 0.5,
                  "lawyer": 0, "jewelry": 0},
    },
    {
        "key": "palms", "city": "Los Angeles", "count": 12,
        "prefixes": ["Palms", "Motor Avenue", "National", "Overland", "Mar Vista", "Rancho Park",
                     "Cheviot"],
        "streets": [
            ("Overland Ave", (34.0400, -118.4210, 2600), (34.0250, -118.4080, 3800)),
            ("Motor Ave", (34.0310, -118.4105, 3000), (34.0185, -118.4040, 3800)),
            ("National Blvd", (34.0310, -118.4250, 11000), (34.0255, -118.4030, 10100)),
            ("Venice Blvd", (34.0170, -118.4150, 10700), (34.0205, -118.4010, 10200)),
            ("Palms Blvd", (34.0205, -118.4175, 10500), (34.0225, -118.4060, 10000)),
        ],
        "boost": {"takeaway": 2, "laundry": 4, "convenience": 3, "liquor": 3, "park": 2,
                  "church": 2, "jewelry": 0, "lodging": 0.3},
    },
    {
        "key": "culver_city", "city": "Culver City", "count": 14,
        "prefixes": ["Culver", "Helms", "Ballona", "Studio", "Jefferson", "Hayden", "Town Plaza",
                     "Baldwin Hills"],
        "streets": [
            ("Culver Blvd", (34.0240, -118.3945, 9300), (34.0160, -118.4040, 9900)),
            ("Washington Blvd", (34.0265, -118.3880, 8900), (34.0185, -118.3990, 9700)),
            ("Overland Ave", (34.0140, -118.4030, 4000), (34.0010, -118.4000, 5000)),
        ],
        "boost": {"restaurant": 1.5, "bar": 2, "cinema": 4, "gallery": 3, "cafe": 1.3},
    },
    {
        "key": "santa_monica", "city": "Santa Monica", "count": 25,
        "prefixes": ["Ocean Park", "Montana", "Seabreeze", "Driftwood", "Pier Light", "Pacific",
                     "Tidepool", "Marine Layer", "Palisades", "Bay Street", "Sunset Beach",
                     "Santa Monica", "Breakwater", "Salt Air"],
        "streets": [
            ("Wilshire Blvd", (34.0412, -118.4765, 3200), (34.0198, -118.5030, 100)),
            ("Montana Ave", (34.0300, -118.5020, 700), (34.0390, -118.4905, 1700)),
            ("Main St", (34.0095, -118.4900, 2000), (33.9975, -118.4805, 3200)),
            ("Ocean Park Blvd", (34.0040, -118.4850, 200), (34.0140, -118.4660, 2200)),
            ("Pico Blvd", (34.0225, -118.4600, 2900), (34.0080, -118.4870, 600)),
            ("Santa Monica Blvd", (34.0355, -118.4690, 3000), (34.0175, -118.4950, 200)),
        ],
        "boost": {"cafe": 1.5, "restaurant": 1.3, "bar": 1.5, "lodging": 2, "bicycle": 4,
                  "clothing": 1.5, "gym": 2, "park": 1.5},
    },
    {
        "key": "venice", "city": "Los Angeles", "count": 5,
        "prefixes": ["Abbot Kinney", "Venice", "Canal", "Boardwalk", "Windward", "Rose Avenue"],
        "streets": [
            ("Abbot Kinney Blvd", (33.9955, -118.4770, 800), (33.9880, -118.4660, 1600)),
        ],
        "boost": {"cafe": 2, "clothing": 2, "gallery": 3, "restaurant": 1.2},
    },
    {
        "key": "palisades", "city": "Los Angeles", "count": 4,
        "prefixes": ["Palisades", "Swarthmore", "Temescal", "Via de la Paz", "Bluffs"],
        "streets": [
            ("Swarthmore Ave", (34.0472, -118.5262, 900), (34.0455, -118.5255, 1050)),
            ("Via de la Paz", (34.0462, -118.5275, 850), (34.0448, -118.5270, 1050)),
            ("Sunset Blvd", (34.0480, -118.5240, 15100), (34.0478, -118.5300, 15300)),
        ],
        "boost": {"cafe": 2, "bakery": 2, "market": 2},
    },
    {
        "key": "playa_vista", "city": "Los Angeles", "count": 3,
        "prefixes": ["Playa Vista", "Ballona Creek", "Runway", "Bluff Creek"],
        "streets": [
            ("Jefferson Blvd", (33.9775, -118.4250, 12600), (33.9800, -118.4130, 12100)),
        ],
        "boost": {"cafe": 2, "gym": 2},
    },
    {
        "key": "westchester", "city": "Los Angeles", "count": 2,
        "prefixes": ["Westchester", "Manchester", "Kentwood", "Bluff"],
        "streets": [
            ("W Manchester Ave", (33.9598, -118.4180, 7200), (33.9595, -118.4080, 6700)),
        ],
        "boost": {"takeaway": 2},
    },
]

# --------------------------------------------------------------------------------------
# Generation.
# --------------------------------------------------------------------------------------

ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def haversine_m(lat1, lng1, lat2, lng2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def e7(value):
    """Degrees as an integer number of 1e-7 degrees, last digit never 0 (so 7 decimals print)."""
    units = int(round(value * 10**7))
    if units % 10 == 0:
        units += 1
    return units


def deg(units):
    return units / 10**7


def weighted_choice(rng, weights):
    keys = list(weights)
    total = sum(weights[k] for k in keys)
    pick = rng.random() * total
    for key in keys:
        pick -= weights[key]
        if pick < 0:
            return key
    return keys[-1]


def kind_weights(area):
    if "only" in area:
        return dict(area["only"])
    weights = {}
    for key, (_, _, _, base) in KINDS.items():
        weight = base * area.get("boost", {}).get(key, 1)
        if weight > 0:
            weights[key] = weight
    return weights


SUFFIXES = {"Ave": "Avenue", "Blvd": "Boulevard", "Dr": "Drive", "Rd": "Road", "St": "Street",
            "Way": "Way", "Plaza": "Plaza", "Pl": "Place"}


def street_prefixes(street):
    """What a shop's name may borrow from its street: "Gayley", "Gayley Avenue"."""
    words = street.split(" ")
    if words[0] in ("N", "S", "E", "W"):
        words = words[1:]
    if words[-1] in ("N", "S", "E", "W"):
        words = words[:-1]
    if words[-1] not in SUFFIXES:
        return [" ".join(words)]  # "Avenue of the Stars", "Via de la Paz"
    core = words[:-1]
    full = " ".join(core + [SUFFIXES[words[-1]]])
    if len(core) > 2:
        return []
    if core[0] in ("Main", "Charles"):
        return [full]
    return [" ".join(core), full]


def make_name(rng, area, kind, street, used):
    nouns = KINDS[kind][2]
    from_street = street_prefixes(street)
    for _ in range(200):
        noun = rng.choice(nouns)
        roll = rng.random()
        if roll < 0.45 or (roll < 0.80 and roll >= 0.65 and not from_street):
            prefix = rng.choice(area["prefixes"])
        elif roll < 0.65:
            prefix = rng.choice(GENERAL_PREFIXES)
        elif roll < 0.80:
            prefix = rng.choice(from_street)
        elif kind in IMPERSONAL_KINDS:
            prefix = rng.choice(area["prefixes"])
        else:
            prefix = rng.choice(GIVEN_NAMES) + "'s"
        name = f"{prefix} {noun}"
        if name not in used:
            used.add(name)
            return name
    raise RuntimeError(f"could not find a unique name in {area['key']}")


def place_point(rng, segment):
    """A point along a street segment, offset 8–30 m to one side, and its street number."""
    (lat1, lng1, num1), (lat2, lng2, num2) = segment
    t = rng.random()
    lat = lat1 + (lat2 - lat1) * t
    lng = lng1 + (lng2 - lng1) * t
    # Unit normal to the segment in metres, then back to degrees.
    m_per_deg_lat = 111320.0
    m_per_deg_lng = 111320.0 * math.cos(math.radians(lat))
    dx = (lng2 - lng1) * m_per_deg_lng
    dy = (lat2 - lat1) * m_per_deg_lat
    length = math.hypot(dx, dy) or 1.0
    nx, ny = -dy / length, dx / length
    side = 1 if rng.random() < 0.5 else -1
    offset = side * rng.uniform(8, 30)
    lat += ny * offset / m_per_deg_lat
    lng += nx * offset / m_per_deg_lng
    number = int(round(num1 + (num2 - num1) * t))
    number = number - number % 2 + (1 if side > 0 else 0)
    return lat, lng, max(number, 1)


def make_place_id(rng, used):
    while True:
        place_id = "ChIJ" + "".join(rng.choice(ID_ALPHABET) for _ in range(23))
        if place_id not in used:
            used.add(place_id)
            return place_id


def make_rating(rng):
    rating = min(5.0, max(3.0, rng.gauss(4.3, 0.38)))
    return round(rating, 1)


def make_ratings_total(rng, kind):
    high = 4000 if kind in ("restaurant", "cafe", "bar", "museum", "park", "cinema",
                            "lodging", "bakery", "takeaway", "market") else 600
    value = math.exp(rng.uniform(math.log(3), math.log(high)))
    return max(3, min(4000, int(value)))


def build_places():
    rng = random.Random(SEED)
    used_names, used_ids = set(), set()
    places = []
    for area in AREAS:
        weights = kind_weights(area)
        for _ in range(area["count"]):
            kind = weighted_choice(rng, weights)
            types, icon, _, _ = KINDS[kind]
            street, start, end = rng.choice(area["streets"])
            lat, lng, number = place_point(rng, (start, end))
            lat_u, lng_u = e7(lat), e7(lng)
            name = make_name(rng, area, kind, street, used_names)
            place_id = make_place_id(rng, used_ids)
            address = f"{number} {street}"
            if area.get("suites") and kind in ("lawyer", "insurance", "accounting", "office",
                                               "dentist", "doctor", "bank") and rng.random() < 0.7:
                address += f" #{rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 16, 18])}{rng.randrange(0, 50):02d}"
            half = [e7(rng.uniform(0.00128, 0.00142)) for _ in range(4)]
            status = "CLOSED_TEMPORARILY" if rng.random() < 0.035 else "OPERATIONAL"
            global_code = olc_encode(deg(lat_u), deg(lng_u))
            place = {
                "business_status": status,
                "geometry": {
                    "location": {"lat": deg(lat_u), "lng": deg(lng_u)},
                    "viewport": {
                        "northeast": {"lat": deg(lat_u + half[0]), "lng": deg(lng_u + half[1])},
                        "southwest": {"lat": deg(lat_u - half[2]), "lng": deg(lng_u - half[3])},
                    },
                },
                "icon": ICON.format(icon),
                "name": name,
                "place_id": place_id,
                "plus_code": {
                    "compound_code": f"{global_code[4:]} {area['city']}, California",
                    "global_code": global_code,
                },
                "rating": make_rating(rng),
                "reference": place_id,
                "scope": "GOOGLE",
                "types": types + POI,
                "user_ratings_total": make_ratings_total(rng, kind),
                "vicinity": f"{address}, {area['city']}",
            }
            places.append(place)
    # Nearest first, as a distance-ranked search would list them; ties broken by name.
    places.sort(key=lambda p: (round(haversine_m(CENTRE_LAT, CENTRE_LNG,
                                                 p["geometry"]["location"]["lat"],
                                                 p["geometry"]["location"]["lng"]), 3),
                               p["name"]))
    return places


def main():
    output = sys.argv[1] if len(sys.argv) > 1 else OUTPUT
    places = build_places()
    text = json.dumps(places, indent=2, ensure_ascii=False) + "\n"
    with open(output, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
    print(f"wrote {len(places)} places to {os.path.normpath(output)}")


if __name__ == "__main__":
    main()
