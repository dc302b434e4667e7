"""Generate a dataset folder of N realistic, valid, synthetic ACLED-style events for benchmarks.

Usage::

    python benchmarks/generate_events.py OUT_DIR [--events N] [--seed S] [--rows-per-sheet K] [--articles A]

OUT_DIR becomes a complete eventdata dataset folder:

- schemas/ is a copy of the repository's codebook (dataset.json renamed ``eventdata-synthetic``), with the
  generator's actors appended to schemas/actors.csv and its places to schemas/places.csv, as a dataset's coders
  would extend them;
- seeds/articles/<id>.txt are a few hundred synthetic "security update" articles, indexed in seeds/articles.csv
  with their sha256 and publication dates;
- seeds/sheets/*.csv hold the events, K rows per sheet, with only the columns a coder types (the columns the
  codebook marks as derived are left to the tool), and seeds/event_ids.csv registers every event id.

Every row passes ``eventdata validate``: sub-event types belong to their event type; actors are in the actor list,
active on the event date, and of the actor types the event type admits (state forces abroad count as 8); actor2 is
empty exactly when inter2 is 0; civilian_targeting follows the sub-event type; peaceful protests have no
fatalities; month-precision dates fall on the 1st or 15th; places are in the place list; every event is dated on or
before the articles it cites (and before today) and quotes them verbatim; ids are ISO3 + a registered number.

The data is skewed the way real event data is (explosions/remote violence and battles dominate Syria, protests
Turkey and Lebanon; a few big towns get most events; most events have no fatalities, a few have many), uses
non-ASCII place and coder names and some alternate place names, leaves optional columns empty where coders would,
and has multi-value '; ' cells (sources, associated actors, a second cited article). Everything is drawn from one
seeded numpy generator: the same arguments give byte-identical files. Generation is vectorised (numpy and
pyarrow.compute): 1,000,000 rows take about 10 seconds on two cores.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import shutil
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

REPO_SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"
GENERATOR_VERSION = 2
DEFAULT_EVENTS = 1_000_000
DEFAULT_SEED = 20240203
DEFAULT_ROWS_PER_SHEET = 5_000
DEFAULT_ARTICLES = 300
#: Events made at once; larger datasets are made in parts of this many (rounded to whole sheets).
PART_EVENTS = 1_000_000
FIRST_DAY = np.datetime64("2018-01-01", "D")
LAST_PUBLISHED = np.datetime64("2025-10-31", "D")
MAX_DAYS_BEFORE_PUBLICATION = 27
SENTENCES_PER_TYPE = 6
OPEN_START, OPEN_END = np.datetime64("1800-01-01", "D"), np.datetime64("2200-01-01", "D")
STATE_FORCES, CIVILIANS, EXTERNAL_FORCES = 1, 7, 8
MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]  # fmt: skip

# --- the world the events happen in ------------------------------------------------------------------------

#: Share of events per country. Only countries of the codebook's countries.csv are used.
COUNTRY_WEIGHTS = {"Syria": 0.62, "Turkey": 0.18, "Iraq": 0.13, "Lebanon": 0.07}

#: How much more (or less) often each event type happens in a country than in Syria.
COUNTRY_EVENT_TYPE_FACTOR: dict[str, dict[str, float]] = {
    "Syria": {},
    "Turkey": {"Protests": 9.0, "Riots": 2.0, "Battles": 0.5, "Explosions/Remote violence": 0.08,
               "Violence against civilians": 0.6, "Strategic developments": 1.2},
    "Iraq": {"Protests": 3.0, "Riots": 2.0, "Battles": 0.6, "Explosions/Remote violence": 0.5,
             "Strategic developments": 1.3},
    "Lebanon": {"Protests": 5.0, "Riots": 2.5, "Battles": 0.3, "Explosions/Remote violence": 1.0,
                "Violence against civilians": 0.5},
}  # fmt: skip

# fmt: off
#: Places added to schemas/places.csv: location, alternate names, admin1, admin2, admin3, latitude, longitude,
#: relative number of events. Coordinates are approximate town centres.
PLACES: dict[str, list[tuple[str, str, str, str, str, float, float, float]]] = {
    "Syria": [
        ("Aleppo - Al-Sukkari", "Halab - Sukkari", "Aleppo", "Jebel Saman", "Jebel Saman", 36.1772, 37.1508, 8),
        ("Aleppo - Sheikh Maqsoud", "Sheikh Maqsood", "Aleppo", "Jebel Saman", "Jebel Saman", 36.2265, 37.1562, 5),
        ("A'zaz", "Azaz; I‘zāz", "Aleppo", "A'zaz", "A'zaz", 36.5866, 37.0463, 6),
        ("Afrin", "Efrîn; Afreen", "Aleppo", "Afrin", "Afrin", 36.5119, 36.8696, 7),
        ("Al Bab", "Al-Bab", "Aleppo", "Al Bab", "Al Bab", 36.3706, 37.5157, 6),
        ("Jarablus", "Jarabulus", "Aleppo", "Jarablus", "Jarablus", 36.8175, 38.0113, 3),
        ("Menbij", "Manbij", "Aleppo", "Menbij", "Menbij", 36.5281, 37.9549, 5),
        ("Ain Al Arab", "Kobani; Kobanê", "Aleppo", "Ain Al Arab", "Ain Al Arab", 36.8910, 38.3536, 2),
        ("Idlib", "Idleb", "Idlib", "Idlib", "Idlib", 35.9306, 36.6339, 9),
        ("Sarmada", "", "Idlib", "Harim", "Dana", 36.1781, 36.7226, 4),
        ("Ariha", "Arīḥā", "Idlib", "Ariha", "Ariha", 35.8128, 36.6097, 5),
        ("Ma‘arrat an-Nu‘mān", "Maarat al-Numan; Ma'arrat An Nu'man", "Idlib", "Ma'arrat An Nu'man",
         "Ma'arrat An Nu'man", 35.6440, 36.6706, 6),
        ("Kafr Nobol", "Kafranbel; Kafr Nabl", "Idlib", "Ma'arrat An Nu'man", "Kafr Nobol", 35.6136, 36.5614, 4),
        ("Jisr ash-Shughūr", "Jisr Al-Shughur; Jisr Ash-Shugur", "Idlib", "Jisr Ash-Shugur", "Jisr Ash-Shugur",
         35.8116, 36.3181, 5),
        ("Hama", "Ḥamāh", "Hama", "Hama", "Hama", 35.1318, 36.7578, 4),
        ("Kafr Nabuda", "Kafr Nbouda", "Hama", "As-Suqaylabiyah", "Qalaat Al Madiq", 35.4200, 36.5072, 3),
        ("Muhradah", "Mhardeh", "Hama", "Muhradah", "Muhradah", 35.2478, 36.5728, 2),
        ("Homs - Al-Waer", "Al Waer", "Homs", "Homs", "Homs", 34.7444, 36.6639, 3),
        ("Tadmur", "Palmyra", "Homs", "Tadmor", "Tadmor", 34.5510, 38.2680, 3),
        ("As-Sukhnah", "Al-Sukhnah", "Homs", "Tadmor", "As-Sukhnah", 34.8866, 38.8741, 2),
        ("Damascus - Mezzeh", "Al-Mazzeh", "Damascus", "Damascus", "Damascus", 33.5024, 36.2475, 3),
        ("Duma", "Douma", "Rural Damascus", "Duma", "Duma", 33.5722, 36.4058, 2),
        ("Qatana", "", "Rural Damascus", "Qatana", "Qatana", 33.4386, 36.0800, 1),
        ("Dar'a - Al-Balad", "Daraa al-Balad", "Dar'a", "Dar'a", "Dar'a", 32.6167, 36.1064, 5),
        ("Nawa", "", "Dar'a", "Izra'", "Nawa", 32.8894, 36.0433, 3),
        ("Jasim", "Jassem", "Dar'a", "As-Sanamayn", "As-Sanamayn", 32.9922, 36.0600, 2),
        ("As-Sweida", "Suwayda; As-Suwayda", "As-Sweida", "As-Sweida", "As-Sweida", 32.7089, 36.5695, 4),
        ("Khan Arnaba", "", "Quneitra", "Quneitra", "Khan Arnaba", 33.1894, 35.8872, 1),
        ("Deir-ez-Zor", "Deir ez-Zor; Dayr az-Zawr", "Deir-ez-Zor", "Deir-ez-Zor", "Deir-ez-Zor",
         35.3359, 40.1408, 6),
        ("Thiban", "Dhiban", "Deir-ez-Zor", "Al Mayadin", "Thiban", 35.0100, 40.5000, 3),
        ("Hajin", "", "Deir-ez-Zor", "Abu Kamal", "Hajin", 34.6937, 40.8287, 3),
        ("Abu Kamal", "Al-Bukamal; Albu Kamal", "Deir-ez-Zor", "Abu Kamal", "Abu Kamal", 34.4500, 40.9186, 3),
        ("Ar-Raqqa", "Raqqa; Al-Raqqah", "Ar-Raqqa", "Ar-Raqqa", "Ar-Raqqa", 35.9528, 39.0079, 5),
        ("Tell Abiad", "Tal Abyad; Girê Spî", "Ar-Raqqa", "Tell Abiad", "Tell Abiad", 36.6975, 38.9567, 3),
        ("Ras al-‘Ayn", "Ras Al Ain; Serêkaniyê", "Al-Hasakah", "Ras Al Ain", "Ras Al Ain", 36.8503, 40.0706, 3),
        ("Qāmishlī", "Qamishli; Qamishlo", "Al-Hasakah", "Quamishli", "Quamishli", 37.0522, 41.2317, 3),
        ("Al-Hol Camp", "Al-Hawl Camp", "Al-Hasakah", "Al-Hasakah", "Al-Hol", 36.3839, 41.1477, 2),
        ("Lattakia", "Latakia; Al-Lādhiqīyah", "Lattakia", "Lattakia", "Lattakia", 35.5317, 35.7901, 1),
        ("Kabani", "Kabbani", "Lattakia", "Al-Haffa", "Kansaba", 35.7530, 36.1240, 2),
        ("Tartous", "Tartus", "Tartous", "Tartous", "", 34.8890, 35.8866, 1),
    ],
    "Turkey": [
        ("İstanbul - Kadıköy", "Istanbul - Kadikoy", "İstanbul", "Kadıköy", "", 40.9903, 29.0290, 8),
        ("İstanbul - Beyoğlu", "Istanbul - Beyoglu; Taksim", "İstanbul", "Beyoğlu", "", 41.0369, 28.9850, 9),
        ("İstanbul - Şişli", "Istanbul - Sisli", "İstanbul", "Şişli", "", 41.0602, 28.9877, 5),
        ("Ankara - Çankaya", "Ankara - Cankaya; Kızılay", "Ankara", "Çankaya", "", 39.9179, 32.8627, 7),
        ("İzmir - Konak", "Izmir - Konak", "İzmir", "Konak", "", 38.4189, 27.1287, 5),
        ("Diyarbakır - Bağlar", "Diyarbakir - Baglar", "Diyarbakır", "Bağlar", "", 37.9139, 40.2021, 4),
        ("Diyarbakır - Sur", "Diyarbakir - Sur", "Diyarbakır", "Sur", "", 37.9106, 40.2360, 3),
        ("Lice", "", "Diyarbakır", "Lice", "", 38.4591, 40.6514, 2),
        ("Ceylanpınar", "Ceylanpinar", "Şanlıurfa", "Ceylanpınar", "", 36.8469, 40.0483, 1),
        ("Akçakale", "Akcakale", "Şanlıurfa", "Akçakale", "", 36.7111, 38.9475, 1),
        ("Şanlıurfa", "Sanliurfa; Urfa", "Şanlıurfa", "Eyyübiye", "", 37.1591, 38.7969, 2),
        ("Gaziantep - Şahinbey", "Gaziantep - Sahinbey", "Gaziantep", "Şahinbey", "", 37.0594, 37.3825, 2),
        ("Kilis", "", "Kilis", "Kilis", "", 36.7184, 37.1212, 1),
        ("Reyhanlı", "Reyhanli", "Hatay", "Reyhanlı", "", 36.2689, 36.5672, 1),
        ("Antakya", "Antioch", "Hatay", "Antakya", "", 36.2021, 36.1600, 2),
        ("Nusaybin", "", "Mardin", "Nusaybin", "", 37.0752, 41.2152, 1),
        ("Kızıltepe", "Kiziltepe", "Mardin", "Kızıltepe", "", 37.1939, 40.5861, 1),
        ("Cizre", "", "Şırnak", "Cizre", "", 37.3272, 42.1903, 2),
        ("Uludere", "Roboski", "Şırnak", "Uludere", "", 37.4461, 42.8514, 1),
        ("Yüksekova", "Yuksekova; Gever", "Hakkari", "Yüksekova", "", 37.5742, 44.2833, 2),
        ("Çukurca", "Cukurca", "Hakkari", "Çukurca", "", 37.2475, 43.6136, 2),
        ("Van", "", "Van", "İpekyolu", "", 38.5012, 43.3729, 2),
        ("Tatvan", "", "Bitlis", "Tatvan", "", 38.5066, 42.2816, 1),
        ("Ovacık", "Ovacik", "Tunceli", "Ovacık", "", 39.3573, 39.2107, 1),
        ("Pervari", "", "Siirt", "Pervari", "", 37.9339, 42.5472, 1),
        ("Batman", "", "Batman", "Merkez", "", 37.8812, 41.1351, 1),
        ("Muş", "Mus", "Muş", "Merkez", "", 38.7432, 41.5064, 1),
        ("Doğubayazıt", "Dogubayazit", "Ağrı", "Doğubayazıt", "", 39.5469, 44.0842, 1),
        ("Iğdır", "Igdir", "Iğdır", "Merkez", "", 39.9237, 44.0450, 1),
        ("Adana - Seyhan", "", "Adana", "Seyhan", "", 36.9914, 35.3308, 2),
        ("Mersin - Akdeniz", "", "Mersin", "Akdeniz", "", 36.8121, 34.6415, 2),
    ],
    "Iraq": [
        ("Baghdad - Tahrir Square", "Tahrir Square", "Baghdad", "Resafa", "", 33.3342, 44.3860, 6),
        ("Baghdad - Al-Mansour", "Mansour", "Baghdad", "Karkh", "", 33.3152, 44.3508, 3),
        ("Basrah", "Basra; Al-Baṣrah", "Basrah", "Basrah", "", 30.5085, 47.7804, 5),
        ("Mosul", "Al-Mawṣil", "Ninewa", "Mosul", "", 36.3400, 43.1300, 4),
        ("Sinjar", "Shingal", "Ninewa", "Sinjar", "", 36.3209, 41.8766, 2),
        ("Kirkuk", "", "Kirkuk", "Kirkuk", "", 35.4681, 44.3922, 3),
        ("Ramadi", "Ar-Ramādī", "Anbar", "Ramadi", "", 33.4258, 43.2992, 2),
        ("Falluja", "Fallujah", "Anbar", "Falluja", "", 33.3500, 43.7833, 2),
        ("Tikrit", "", "Salah al-Din", "Tikrit", "", 34.6071, 43.6782, 2),
        ("Baquba", "Baqubah", "Diyala", "Baquba", "", 33.7466, 44.6437, 2),
        ("Erbil", "Hewlêr; Arbil", "Erbil", "Erbil", "", 36.1912, 44.0092, 3),
        ("Nasiriyah", "An-Nāṣirīyah", "Dhi-Qar", "Nassriya", "", 31.0439, 46.2573, 3),
        ("Zakho", "Zaxo", "Duhok", "Zakho", "", 37.1436, 42.6818, 2),
        ("As Sulaymānīyah", "Sulaymaniyah; Slêmanî", "Sulaymaniyah", "Sulaymaniyah", "", 35.5617, 45.4329, 2),
    ],
    "Lebanon": [
        ("Beirut - Hamra", "Hamra", "Beirut", "Beirut", "", 33.8966, 35.4823, 4),
        ("Beirut - Martyrs' Square", "Martyrs Square; Sahat al-Shuhada", "Beirut", "Beirut", "", 33.8958, 35.5070, 5),
        ("Haret Hreik", "Haret Hreyk", "Mount Lebanon", "Baabda", "", 33.8519, 35.5047, 3),
        ("Tripoli", "Trablous; Ṭarābulus", "North", "Tripoli", "", 34.4367, 35.8497, 4),
        ("Saïda", "Sidon; Saida", "South", "Saida", "", 33.5606, 35.3758, 2),
        ("Tyre", "Sour; Ṣūr", "South", "Tyre", "", 33.2705, 35.2038, 2),
        ("Nabatieh", "An-Nabaṭīyah", "Nabatiyeh", "Nabatiyeh", "", 33.3772, 35.4836, 2),
        ("Kfar Kila", "Kfarkela", "Nabatiyeh", "Marjayoun", "", 33.2836, 35.5622, 3),
        ("Zahlé", "Zahle", "Bekaa", "Zahle", "", 33.8463, 35.9020, 1),
        ("Baalbek", "Baʿlabakk", "Baalbek-Hermel", "Baalbek", "", 34.0058, 36.2181, 2),
        ("Halba", "", "Akkar", "Akkar", "", 34.5428, 36.0797, 1),
    ],
}

#: Actors added to schemas/actors.csv when the list lacks them: name, inter, home country, start, end.
ADDED_ACTORS: list[tuple[str, int, str, str, str]] = [
    ("Police Forces of Syria (2024-)", 1, "Syria", "2024-12-08", ""),
    ("SNA: Syrian National Army", 2, "Syria", "2017-12-30", ""),
    ("NDF: National Defence Forces", 3, "Syria", "2012-11-01", "2024-12-08"),
    ("Unidentified Clan Militia (Syria)", 4, "Syria", "", ""),
    ("Al Shaitat Tribal Militia (Syria)", 4, "Syria", "", ""),
    ("Military Forces of Turkey (2016-)", 1, "Turkey", "2016-07-16", ""),
    ("Police Forces of Turkey (2016-)", 1, "Turkey", "2016-07-16", ""),
    ("Gendarmerie of Turkey (2016-)", 1, "Turkey", "2016-07-16", ""),
    ("PKK: Kurdistan Workers Party", 2, "Turkey", "1978-11-27", ""),
    ("Islamic State (Turkey)", 2, "Turkey", "2013-04-08", ""),
    ("Unidentified Clan Militia (Turkey)", 4, "Turkey", "", ""),
    ("Military Forces of Iraq (2014-2018)", 1, "Iraq", "2014-09-08", "2018-10-24"),
    ("Military Forces of Iraq (2018-2020)", 1, "Iraq", "2018-10-25", "2020-05-06"),
    ("Military Forces of Iraq (2020-2022)", 1, "Iraq", "2020-05-07", "2022-10-26"),
    ("Islamic State (Iraq)", 2, "Iraq", "2013-04-08", ""),
    ("PMF: Popular Mobilization Forces", 3, "Iraq", "2014-06-13", ""),
    ("Unidentified Tribal Militia (Iraq)", 4, "Iraq", "", ""),
    ("Military Forces of Lebanon (2016-)", 1, "Lebanon", "2016-10-31", ""),
    ("Police Forces of Lebanon (2016-)", 1, "Lebanon", "2016-10-31", ""),
    ("Fatah al-Islam", 2, "Lebanon", "2006-11-01", ""),
    ("Hezbollah", 3, "Lebanon", "1982-06-01", ""),
    ("Unidentified Clan Militia (Lebanon)", 4, "Lebanon", "", ""),
    ("UNIFIL: United Nations Interim Force in Lebanon", 8, "Lebanon", "1978-03-19", ""),
    ("Military Forces of Israel (2009-2021)", 1, "Israel", "2009-03-31", "2021-06-12"),
    ("Military Forces of Israel (2021-2022)", 1, "Israel", "2021-06-13", "2022-12-28"),
    ("Military Forces of Israel (2022-)", 1, "Israel", "2022-12-29", ""),
    ("Military Forces of Iran (1989-)", 1, "Iran", "1989-08-03", ""),
]

#: Foreign actors that act in a country (state forces among them are coded 8 there).
PRESENCE: dict[str, list[str]] = {
    "Syria": [
        "Military Forces of Turkey (2016-)", "Military Forces of Russia (2000-)",
        "Military Forces of the United States (2017-2021)", "Military Forces of the United States (2021-)",
        "Military Forces of Israel (2009-2021)", "Military Forces of Israel (2021-2022)",
        "Military Forces of Israel (2022-)", "Military Forces of Iran (1989-)", "Hezbollah",
    ],
    "Turkey": [
        "Military Forces of Iran (1989-)", "Military Forces of Syria (2000-2024)", "Military Forces of Syria (2024-)",
    ],
    "Iraq": [
        "Military Forces of Turkey (2016-)", "Military Forces of Iran (1989-)", "PKK: Kurdistan Workers Party",
        "Military Forces of the United States (2017-2021)", "Military Forces of the United States (2021-)",
    ],
    "Lebanon": [
        "Military Forces of Israel (2009-2021)", "Military Forces of Israel (2021-2022)",
        "Military Forces of Israel (2022-)",
    ],
}

#: Associated actors by country and by the actor type of the main actor. Names the actor list lacks are added
#: to it (type 7, open dates): groups, parties and professions rather than armed organisations.
ASSOCIATED: dict[str, dict[int, list[str]]] = {
    "Syria": {
        1: ["NDF: National Defence Forces", "Military Forces of Russia (2000-)"],
        2: ["SNA: Syrian National Army", "Islamic State (Syria)"],
        4: ["Al Shaitat Tribal Militia (Syria)"],
        5: ["Students (Syria)"],
        6: ["Women (Syria)", "Teachers (Syria)", "Students (Syria)", "Kurdish Ethnic Group (Syria)",
            "Druze Group (Syria)", "Refugees/IDPs (Syria)"],
        7: ["Women (Syria)", "Children (Syria)", "Farmers (Syria)", "Health Workers (Syria)", "Journalists (Syria)",
            "Refugees/IDPs (Syria)"],
        8: ["Military Forces of Iran (1989-)"],
    },
    "Turkey": {
        1: ["Gendarmerie of Turkey (2016-)"],
        5: ["Football Supporters (Turkey)", "Students (Turkey)"],
        6: ["HDP: Peoples' Democratic Party", "CHP: Republican People's Party", "Labour Group (Turkey)",
            "Women (Turkey)", "Students (Turkey)", "Kurdish Ethnic Group (Turkey)", "Alevi Muslim Group (Turkey)",
            "Saturday Mothers"],
        7: ["Journalists (Turkey)", "Women (Turkey)", "Kurdish Ethnic Group (Turkey)", "Refugees/IDPs (Turkey)",
            "Lawyers (Turkey)"],
    },
    "Iraq": {
        1: ["PMF: Popular Mobilization Forces"],
        5: ["Sadrist Movement"],
        6: ["Sadrist Movement", "Women (Iraq)", "Students (Iraq)", "Labour Group (Iraq)"],
        7: ["Yazidi Ethnic Group (Iraq)", "Women (Iraq)", "Children (Iraq)", "Journalists (Iraq)"],
    },
    "Lebanon": {
        5: ["Depositors (Lebanon)"],
        6: ["Women (Lebanon)", "Students (Lebanon)", "Depositors (Lebanon)", "Lebanese Forces Party"],
        7: ["Refugees/IDPs (Lebanon)", "Children (Lebanon)", "Health Workers (Lebanon)"],
    },
}

#: Share of rows whose actor has associated actors, by actor type.
ASSOCIATED_SHARE = {1: 0.15, 2: 0.2, 3: 0.1, 4: 0.1, 5: 0.2, 6: 0.45, 7: 0.35, 8: 0.1}

#: Outlets by country with their source scale (values of source_scales.csv).
OUTLETS: dict[str, list[tuple[str, str]]] = {
    "Syria": [
        ("Syrian Observatory for Human Rights", "Other"), ("SANA", "National"), ("Enab Baladi", "National"),
        ("Deir Ezzor 24", "Subnational"), ("North Press Agency", "Subnational"), ("Hawar News Agency", "Subnational"),
        ("Step News Agency", "New media"), ("Horan Free League", "Local partner"), ("Al Jazeera", "Regional"),
        ("Asharq Al-Awsat", "Regional"), ("Reuters", "International"), ("AFP", "International"),
    ],
    "Turkey": [
        ("Bianet", "National"), ("Evrensel", "National"), ("Cumhuriyet", "National"), ("Anadolu Ajansı", "National"),
        ("Mezopotamya Ajansı", "Subnational"), ("Turkish Ministry of National Defence", "Other"),
        ("Gazete Duvar", "New media"), ("Reuters", "International"), ("AFP", "International"),
    ],
    "Iraq": [
        ("Shafaq News", "National"), ("Rudaw", "Subnational"), ("Kurdistan 24", "Subnational"),
        ("Alsumaria", "National"), ("Security Media Cell", "Other"), ("Al Jazeera", "Regional"),
        ("Reuters", "International"),
    ],
    "Lebanon": [
        ("L'Orient-Le Jour", "National"), ("National News Agency", "National"), ("Naharnet", "National"),
        ("Al Akhbar", "National"), ("Al Jazeera", "Regional"), ("AFP", "International"),
    ],
}
# fmt: on

CODERS = ["Amira Haddad", "Çağla Yıldız", "José Núñez", "lina.k", "Mehmet Öztürk", "Søren Ødegård", "maintainers"]

PROTEST_TAGS = [
    "crowd size=no report",
    "crowd size=no report",
    "crowd size=dozens",
    "crowd size=around 100",
    "crowd size=hundreds",
    "crowd size=more than 1000",
    "crowd size=no report; local administrators",
]


@dataclass(frozen=True)
class SubEvent:
    """How often a sub-event type happens, who takes part and how deadly it is."""

    weight: float
    inter1: dict[int, float]
    inter2: dict[int, float]  # 0 = no second actor
    zero_fatalities: float  # share of events with no reported fatality
    mean_fatalities: float  # mean of the others
    with_actor2: str  # notes: "<actor1> <with_actor2><actor2>"
    without_actor2: str  # notes: "<actor1> <without_actor2>"


# fmt: off
#: Per sub-event type of sub_event_types.csv; weights roughly in ACLED's proportions for Syria.
SUB_EVENTS: dict[str, SubEvent] = {
    "Government regains territory": SubEvent(
        8, {1: 1}, {2: 3, 3: 1}, 0.5, 5, "regained control of the area from ", "regained control of the area"),
    "Non-state actor overtakes territory": SubEvent(
        12, {2: 3, 3: 1, 4: 1}, {1: 2, 2: 2, 3: 1}, 0.5, 4, "took control of the area from ",
        "took control of the area"),
    "Armed clash": SubEvent(
        170, {1: 3, 2: 3, 3: 2, 4: 1, 8: 1}, {1: 3, 2: 3, 3: 2, 4: 1, 8: 1}, 0.55, 3, "clashed with ", "clashed"),
    "Excessive force against protesters": SubEvent(
        3, {6: 1}, {1: 4, 3: 1}, 0.5, 2, "demonstrated and were met with lethal force by ", "were met with force"),
    "Protest with intervention": SubEvent(
        18, {6: 1}, {1: 1}, 1.0, 0, "demonstrated and were dispersed by ", "demonstrated and were dispersed"),
    "Peaceful protest": SubEvent(
        110, {6: 1}, {0: 1}, 1.0, 0, "demonstrated together with ", "demonstrated against rising prices"),
    "Violent demonstration": SubEvent(
        25, {5: 1}, {0: 5, 1: 4, 7: 1}, 0.95, 1.5, "rioted and threw stones at ", "rioted and blocked the main road"),
    "Mob violence": SubEvent(15, {5: 1}, {7: 6, 5: 2, 0: 1, 1: 1}, 0.7, 1.5, "attacked ", "attacked property"),
    "Chemical weapon": SubEvent(
        0.2, {1: 1}, {7: 1}, 0.3, 10, "used chemical weapons against ", "used chemical weapons"),
    "Air/drone strike": SubEvent(
        110, {1: 3, 8: 4}, {0: 3, 2: 3, 7: 2, 1: 1}, 0.5, 4, "carried out an air or drone strike on ",
        "carried out an air or drone strike"),
    "Suicide bomb": SubEvent(
        2, {2: 1}, {7: 2, 1: 1, 0: 1}, 0.2, 8, "carried out a suicide bombing targeting ",
        "carried out a suicide bombing"),
    "Shelling/artillery/missile attack": SubEvent(
        250, {1: 5, 2: 2, 3: 1, 8: 3}, {0: 4, 2: 2, 1: 2, 7: 2, 3: 1}, 0.75, 2, "shelled positions of ",
        "shelled the area"),
    "Remote explosive/landmine/IED": SubEvent(
        40, {3: 4, 2: 2}, {0: 2, 1: 3, 7: 3}, 0.5, 2, "detonated an IED targeting ", "detonated an IED"),
    "Grenade": SubEvent(6, {3: 2, 2: 1, 5: 1}, {0: 1, 7: 2, 1: 1}, 0.6, 1.5, "threw a grenade at ", "threw a grenade"),
    "Sexual violence": SubEvent(
        2, {1: 1, 3: 2}, {7: 1}, 0.95, 1, "committed sexual violence against ", "committed sexual violence"),
    "Attack": SubEvent(90, {1: 2, 2: 2, 3: 4, 4: 1, 5: 1, 8: 1}, {7: 1}, 0.2, 1.5, "attacked ", "attacked a person"),
    "Abduction/forced disappearance": SubEvent(
        30, {1: 3, 2: 2, 3: 3}, {7: 1}, 1.0, 0, "abducted a member of ", "abducted a person"),
    "Agreement": SubEvent(
        5, {1: 1, 2: 1, 8: 1}, {2: 1, 1: 1, 4: 1}, 1.0, 0, "reached an agreement with ", "announced an agreement"),
    "Arrests": SubEvent(30, {1: 4, 2: 1, 8: 1}, {0: 1, 7: 2, 6: 1, 3: 1}, 0.99, 1, "arrested ", "arrested people"),
    "Change to group/activity": SubEvent(
        12, {2: 2, 3: 2, 1: 1}, {0: 1}, 1.0, 0, "changed its activity with ", "announced a change in its structure"),
    "Disrupted weapons use": SubEvent(
        15, {1: 2, 2: 1, 8: 2}, {0: 1, 2: 1, 3: 1}, 0.97, 1, "defused explosives planted by ", "defused a landmine"),
    "Headquarters or base established": SubEvent(
        4, {1: 1, 2: 1, 8: 2}, {0: 1}, 1.0, 0, "set up a base facing ", "established a new base"),
    "Looting/property destruction": SubEvent(
        20, {1: 2, 3: 2, 2: 1, 5: 1}, {0: 1, 7: 3}, 1.0, 0, "looted property of ", "looted property"),
    "Non-violent transfer of territory": SubEvent(
        3, {1: 1, 2: 2}, {0: 1, 2: 1}, 1.0, 0, "took over positions handed over by ", "took over positions"),
    "Other": SubEvent(6, {1: 1, 2: 1, 3: 1, 8: 1}, {0: 2, 7: 1}, 0.95, 1, "was involved in an incident with ", "acted"),
}
# fmt: on

#: Sentences the synthetic articles are made of, by event type; an event's evidence quotes one of its type.
SENTENCES: dict[str, list[str]] = {
    "Battles": [
        "Fierce clashes broke out on {dm} between {a} and {b} on the outskirts of {p}, a local monitor reported.",
        "{a} said its fighters had repelled an attack by {b} near {p} after several hours of fighting.",
        "Fighting between {a} and {b} continued around {p} in {adm1} for a second day.",
        "Both sides exchanged heavy machine-gun fire near {p} on the night of {dm}.",
    ],
    "Protests": [
        "Hundreds of people gathered in {p} on {dm} to protest against rising prices and power cuts.",
        "Demonstrators in {p} chanted slogans demanding the release of detainees.",
        "Teachers staged a sit-in in front of the education directorate in {p} over unpaid salaries.",
        "Security forces dispersed a demonstration in {p} and detained several participants, witnesses said.",
        "Residents of {p} marched through the town centre carrying banners that read “we want to live in dignity”.",
    ],
    "Riots": [
        "An angry crowd set fire to tyres and blocked the main road into {p} on {dm}.",
        "Residents attacked a checkpoint in {p} after a dispute over fuel distribution turned violent.",
        "A mob stormed a municipal building in {p} and smashed its windows, according to local media.",
    ],
    "Explosions/Remote violence": [
        "Artillery shells hit residential neighbourhoods of {p} on {dm}, damaging several houses.",
        "A drone struck a vehicle on the road between {p} and {q}.",
        "An improvised explosive device went off near a market in {p}, local activists said.",
        "Rocket fire targeted positions near {p} overnight, and ambulances were seen heading to the area.",
        "Warplanes carried out at least four strikes on the countryside of {adm1} on {dm}.",
    ],
    "Violence against civilians": [
        "Gunmen shot dead a man in {p} on {dm} and fled the scene.",
        "Unidentified men abducted a young man from his home in {p}; his family has had no news of him since.",
        "The body of a shepherd was found near {p} with gunshot wounds.",
        "A woman was killed in {p} by armed men who stormed her house at night.",
    ],
    "Strategic developments": [
        "Security forces arrested at least seven people in a dawn raid on {p}.",
        "Looting of abandoned houses was reported in {p} after the withdrawal of the fighters.",
        "Engineers dismantled a landmine found on the outskirts of {p} on {dm}.",
        "{a} announced that it had set up a new base near {p}.",
        "A local agreement handed control of several villages near {p} to {a}.",
    ],
}


# --- helpers -----------------------------------------------------------------------------------------------


def _codes(text: str) -> set[int]:
    return {int(v) for v in str(text).split(";") if v.strip()}


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _strings(values: np.ndarray | list[Any]) -> pa.Array:
    return pa.array(np.asarray(values, dtype=object), type=pa.string())


def _text(values: np.ndarray) -> pa.Array:
    """Integers as strings."""
    return pc.cast(pa.array(values), pa.string())


def _choice(rng: np.random.Generator, weights: dict[Any, float] | list[float], size: int) -> np.ndarray:
    """size draws of the keys (or positions) of weights, in proportion to them."""
    keys = np.array(list(weights)) if isinstance(weights, dict) else np.arange(len(weights))
    p = np.array(list(weights.values()) if isinstance(weights, dict) else weights, dtype=float)
    return rng.choice(keys, size=size, p=p / p.sum())


def _join(*parts: Any) -> pa.Array:
    """Element-wise concatenation of arrays and scalars (a null part makes the result null)."""
    return pc.binary_join_element_wise(*parts, "")


def _join_present(first: pa.Array, second: pa.Array, separator: str) -> pa.Array:
    """first + separator + second, or first alone where second is null (null where first is null)."""
    # Not null_handling="skip": with it, pyarrow 26 drops the rows whose parts are all null.
    return pc.if_else(pc.is_valid(second), _join(first, separator, second), first)


def _nullify(values: pa.Array, keep: np.ndarray) -> pa.Array:
    """values where keep, null elsewhere."""
    return pc.if_else(pa.array(keep), values, pa.scalar(None, pa.string()))


def _grouped_pick(
    rng: np.random.Generator, groups: np.ndarray, pools: dict[int, list[str]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, pa.Array]:
    """A uniform pick from pools[group] for every row.

    Returns, per row, the position of the pick in a flat array of every pool's values, where the row's pool
    starts in it and how large the pool is (0: no pool, the position is meaningless); then the flat array.
    """
    n_groups = int(groups.max()) + 1 if len(groups) else 0
    flat: list[str] = []
    offsets = np.zeros(n_groups, dtype=np.int64)
    counts = np.zeros(n_groups, dtype=np.int64)
    for group in range(n_groups):
        pool = pools.get(group, [])
        offsets[group], counts[group] = len(flat), len(pool)
        flat.extend(pool)
    start, count = offsets[groups], counts[groups]
    position = start + np.floor(rng.random(len(groups)) * np.maximum(count, 1)).astype(np.int64)
    return np.minimum(position, max(len(flat) - 1, 0)), start, count, _strings(flat or [""])


def codebook_digest(schemas: Path = REPO_SCHEMAS) -> str:
    """sha256 over the codebook's files: a dataset generated from another codebook is stale."""
    digest = hashlib.sha256()
    for path in sorted(p for p in schemas.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(schemas).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _append_rows(path: Path, rows: list[list[str]]) -> None:
    """Append CSV rows to a file that may or may not end with a line break."""
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    if text and not text.endswith("\n"):
        text += "\n"
    path.write_text(text + buffer.getvalue(), encoding="utf-8")


# --- the codebook ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Codebook:
    """What the generator needs from schemas/: vocabularies, actors, places and the coder columns."""

    sub_events: pd.DataFrame
    event_types: pd.DataFrame
    countries: pd.DataFrame  # the countries events are generated for, in COUNTRY_WEIGHTS order
    source_scales: list[str]
    sheet_columns: list[str]
    actors: pd.DataFrame  # actor, inter, country, start, end (datetime64[D]); templates expanded
    places: pd.DataFrame  # location, alternate_names, country, admin1-3, latitude, longitude, weight


def _vocabulary(schemas: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(schemas / "vocabularies" / f"{name}.csv", dtype=str, keep_default_na=False, encoding="utf-8")


def _read_list(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


def extend_actor_list(schemas: Path, countries: list[str]) -> None:
    """Append ADDED_ACTORS and the associated actors the list lacks to schemas/actors.csv."""
    path = schemas / "actors.csv"
    existing = _read_list(path) if path.is_file() else pd.DataFrame(columns=["actor", "aliases"])
    taken = {_key(n) for n in existing["actor"]}
    aliases = {_key(a) for text in existing["aliases"] for a in text.split(";") if a.strip()}
    rows: list[list[str]] = []
    header = ["actor", "inter", "country", "start_date", "end_date", "aliases", "notes"]
    if not path.is_file():
        rows.append(header)
    note = "Added by benchmarks/generate_events.py."
    wanted = [(n, i, c, s, e) for n, i, c, s, e in ADDED_ACTORS]
    for country in countries:
        for names in ASSOCIATED.get(country, {}).values():
            wanted += [(n, 7, country, "", "") for n in names]
    for name, inter, country, start, end in wanted:
        key = _key(name)
        if key in taken or "{country}" in name:
            continue
        if key in aliases:
            raise SystemExit(f"generate_events.py: {name!r} is an alias in {path}; rename it in ADDED_ACTORS.")
        taken.add(key)
        values = {"actor": name, "inter": str(inter), "country": country, "start_date": start, "end_date": end}
        rows.append([values.get(c, note if c == "notes" else "") for c in header])
    _append_rows(path, rows)


def extend_place_list(schemas: Path, countries: list[str]) -> None:
    """Append the PLACES the list lacks to schemas/places.csv; names must stay unique within a country."""
    path = schemas / "places.csv"
    header = [
        "location", "alternate_names", "country", "admin1", "admin2", "admin3",
        "latitude", "longitude", "geonames_id", "coordinate_source",
    ]  # fmt: skip
    existing = _read_list(path) if path.is_file() else pd.DataFrame(columns=header)
    records = existing.to_dict("records")
    names = {
        (row["country"], _key(n))
        for row in records
        for n in [row["location"], *row["alternate_names"].split(";")]
        if n.strip()
    }
    present = {(row["country"], _key(row["location"])) for row in records}
    rows: list[list[str]] = [] if path.is_file() else [header]
    for country in countries:
        for location, alternates, admin1, admin2, admin3, lat, lon, _ in PLACES.get(country, []):
            if (country, _key(location)) in present:
                continue
            mine = [location, *(a for a in alternates.split(";") if a.strip())]
            clashes = [n for n in mine if (country, _key(n)) in names]
            if clashes:
                raise SystemExit(f"generate_events.py: place name(s) {clashes} of {location!r} already in {path}.")
            names |= {(country, _key(n)) for n in mine}
            rows.append(
                [location, alternates, country, admin1, admin2, admin3, f"{lat:.4f}", f"{lon:.4f}", "",
                 "Approximate town centre; added by benchmarks/generate_events.py."]
            )  # fmt: skip
    _append_rows(path, rows)


def _dates(values: pd.Series, default: np.datetime64) -> np.ndarray:
    parsed = pd.to_datetime(values.replace("", None), format="%Y-%m-%d").to_numpy().astype("datetime64[D]")
    return np.where(np.isnat(parsed), default, parsed)


def read_codebook(schemas: Path) -> Codebook:
    """The codebook as extended, restricted to the countries the generator knows."""
    schema = json.loads((schemas / "events.schema.json").read_text(encoding="utf-8"))
    derived = {f["name"]: f.get("eventdata", {}).get("derived") for f in schema["fields"]}
    sheet_columns = [name for name, kind in derived.items() if kind in (None, "event_id")]
    all_countries = _vocabulary(schemas, "countries")
    known = [c for c in COUNTRY_WEIGHTS if c in set(all_countries["country"])]
    if not known:
        raise SystemExit("none of the generator's countries is in the codebook's countries.csv")
    countries = all_countries.set_index("country").loc[known].reset_index()

    raw = _read_list(schemas / "actors.csv")
    rows = []
    for record in raw.to_dict("records"):
        expanded = [record["country"]] if record["country"] != "*" else known
        for country in expanded:
            rows.append(
                (record["actor"].replace("{country}", country), int(record["inter"]), country,
                 record["start_date"], record["end_date"])
            )  # fmt: skip
    actors = pd.DataFrame(rows, columns=["actor", "inter", "country", "start", "end"])
    actors["start"] = _dates(actors["start"], OPEN_START)
    actors["end"] = _dates(actors["end"], OPEN_END)

    places = _read_list(schemas / "places.csv")
    places = places[places["country"].isin(known)].reset_index(drop=True)
    weight = {(c, p[0]): p[7] for c, rows_ in PLACES.items() for p in rows_}
    places["weight"] = [weight.get((c, loc), 1.0) for c, loc in zip(places["country"], places["location"], strict=True)]
    return Codebook(
        sub_events=_vocabulary(schemas, "sub_event_types"),
        event_types=_vocabulary(schemas, "event_types").set_index("event_type"),
        countries=countries,
        source_scales=_vocabulary(schemas, "source_scales")["source_scale"].tolist(),
        sheet_columns=sheet_columns,
        actors=actors,
        places=places,
    )


def check_profiles(codebook: Codebook) -> None:
    """Fail early when the codebook and the generator's tables disagree (the data would be invalid)."""
    problems = []
    for row in codebook.sub_events.to_dict("records"):
        sub_event_type, event_type, max_fatalities = row["sub_event_type"], row["event_type"], row["max_fatalities"]
        profile = SUB_EVENTS.get(sub_event_type)
        if profile is None:
            problems.append(f"no SUB_EVENTS entry for sub-event type {sub_event_type!r}")
            continue
        rule = codebook.event_types.loc[event_type]
        if not set(profile.inter1) <= _codes(rule["inter1"]):
            problems.append(f"{sub_event_type}: inter1 {sorted(profile.inter1)} not within {rule['inter1']}")
        if not (set(profile.inter2) - {0}) <= _codes(rule["inter2"]):
            problems.append(f"{sub_event_type}: inter2 {sorted(profile.inter2)} not within {rule['inter2']}")
        if rule["actor2"] == "required" and 0 in profile.inter2:
            problems.append(f"{sub_event_type}: {event_type} needs actor2 but inter2 may be 0")
        if max_fatalities and int(max_fatalities) == 0 and profile.zero_fatalities < 1:
            problems.append(f"{sub_event_type}: allows no fatalities")
        if event_type not in SENTENCES:
            problems.append(f"no article sentences for event type {event_type!r}")
    for country in codebook.countries["country"]:
        for _, scale in OUTLETS[country]:
            if scale not in codebook.source_scales:
                problems.append(f"source scale {scale!r} is not in source_scales.csv")
    if problems:
        raise SystemExit("generate_events.py does not match the codebook:\n  " + "\n  ".join(problems))


# --- actors ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActorPools:
    """Main and associated actors available per (event country, actor type, era)."""

    boundaries: np.ndarray  # datetime64[D]: era k is [boundaries[k], boundaries[k + 1])
    main: dict[int, list[str]]
    associated: dict[int, list[str]]

    def era(self, dates: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.boundaries, dates, side="right") - 1

    def group(self, country: np.ndarray, inter: np.ndarray, era: np.ndarray) -> np.ndarray:
        return np.asarray((country * 9 + inter) * len(self.boundaries) + era, dtype=np.int64)


def actor_pools(codebook: Codebook) -> ActorPools:
    """Which actors may act in which country, as which actor type, in which period."""
    actors = codebook.actors
    starts, ends = (actors[c].to_numpy().astype("datetime64[D]") for c in ("start", "end"))
    boundaries = np.unique(np.concatenate([starts, ends + 1, [OPEN_START]]))
    n_eras = len(boundaries)
    main: dict[int, list[str]] = {}
    associated: dict[int, list[str]] = {}
    for c, country in enumerate(codebook.countries["country"]):
        present = set(PRESENCE.get(country, []))
        candidates = actors[(actors["country"] == country) | actors["actor"].isin(present)]
        effective = np.where(
            (candidates["inter"] == STATE_FORCES) & (candidates["country"] != country), EXTERNAL_FORCES,
            candidates["inter"],
        )  # fmt: skip
        for era in range(n_eras):
            day = boundaries[era]
            active = (candidates["start"] <= day) & (day <= candidates["end"])
            for inter in range(1, 9):
                pick = active & (effective == inter)
                if inter == CIVILIANS:  # "Civilians (Syria)", not the groups listed as associated actors
                    pick &= candidates["actor"].str.startswith("Civilians (")
                names = sorted(set(candidates.loc[pick, "actor"]))
                if names:
                    main[(c * 9 + inter) * n_eras + era] = names
            active_names = set(actors.loc[(starts <= day) & (day <= ends), "actor"])
            for inter, names in ASSOCIATED.get(country, {}).items():
                usable = [n for n in names if n in active_names]
                if usable:
                    associated[(c * 9 + inter) * n_eras + era] = usable
    return ActorPools(boundaries, main, associated)


# --- articles ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Articles:
    ids: list[str]
    country: np.ndarray  # country position per article
    published: np.ndarray  # datetime64[D]
    sentences: pa.Array  # article * n_types * SENTENCES_PER_TYPE sentences, in that order
    index_rows: list[dict[str, str]]
    texts: list[str]


def _day_month(day: np.datetime64) -> str:
    value = pd.Timestamp(day)
    return f"{value.day} {MONTHS[value.month - 1]}"


def make_articles(
    rng: np.random.Generator, codebook: Codebook, event_types: list[str], total: int, seed: int
) -> Articles:
    """total articles, shared among countries by their weight, each with sentences for every event type."""
    countries = codebook.countries["country"].tolist()
    weights = np.array([COUNTRY_WEIGHTS[c] for c in countries])
    per_country = np.maximum(5, np.round(total * weights / weights.sum())).astype(int)
    span = int((LAST_PUBLISHED - FIRST_DAY).astype(int)) - MAX_DAYS_BEFORE_PUBLICATION
    ids: list[str] = []
    country_of: list[int] = []
    published: list[np.datetime64] = []
    sentences: list[str] = []
    rows: list[dict[str, str]] = []
    texts: list[str] = []
    for c, (country, code) in enumerate(zip(countries, codebook.countries["iso3"], strict=True)):
        n = int(per_country[c])
        # Publication dates spread over the period, jittered.
        base = np.linspace(0, span, n, endpoint=True)
        offsets = np.clip(base + rng.integers(-3, 4, size=n), 0, span).astype(int)
        days = np.sort(FIRST_DAY + MAX_DAYS_BEFORE_PUBLICATION + offsets)
        places = codebook.places[codebook.places["country"] == country]
        place_names, admin1 = places["location"].tolist(), places["admin1"].tolist()
        listed = codebook.actors
        armed = sorted(set(listed.loc[(listed["country"] == country) & listed["inter"].isin([1, 2, 3]), "actor"]))
        outlets = OUTLETS[country]
        for number, day in enumerate(days, start=1):
            article_id = f"{code.lower()}-{day}-{number:03d}"
            outlet = outlets[int(rng.integers(len(outlets)))][0]
            year = pd.Timestamp(day).year
            title = f"{country}: security update, {_day_month(day - 6)} – {_day_month(day)} {year}"
            paragraphs = [
                title,
                f"{outlet} — This update covers incidents reported in {country} in the four weeks to "
                f"{_day_month(day)} {year}.",
            ]
            for event_type in event_types:
                templates = SENTENCES[event_type]
                paragraph = []
                for _ in range(SENTENCES_PER_TYPE):
                    place, other = rng.choice(len(place_names), size=2, replace=False)
                    a, b = rng.choice(len(armed), size=2, replace=False)
                    when = day - int(rng.integers(0, MAX_DAYS_BEFORE_PUBLICATION + 1))
                    sentence = templates[int(rng.integers(len(templates)))].format(
                        dm=_day_month(when), a=armed[a], b=armed[b], p=place_names[place], q=place_names[other],
                        adm1=admin1[place],
                    )  # fmt: skip
                    sentence = sentence[0].upper() + sentence[1:]
                    paragraph.append(sentence)
                    sentences.append(sentence)
                paragraphs.append(" ".join(paragraph))
            paragraphs.append(f"{outlet} could not independently verify all figures; the situation remains fluid.")
            text = "\n\n".join(paragraphs) + "\n"
            ids.append(article_id)
            country_of.append(c)
            published.append(day)
            texts.append(text)
            rows.append(
                {
                    "article_id": article_id,
                    "title": title,
                    "publisher": outlet,
                    "url": f"https://news.example.org/{code.lower()}/{article_id}",
                    "published": str(day),
                    "language": "en",
                    "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
                    "notes": f"Synthetic article made by benchmarks/generate_events.py (seed {seed}).",
                }
            )
    return Articles(
        ids=ids,
        country=np.array(country_of),
        published=np.array(published, dtype="datetime64[D]"),
        sentences=_strings(sentences),
        index_rows=rows,
        texts=texts,
    )


# --- events ------------------------------------------------------------------------------------------------


def make_events(
    rng: np.random.Generator,
    n: int,
    codebook: Codebook,
    rows_per_sheet: int,
    articles: Articles,
    *,
    numbered: np.ndarray | None = None,
    first_sheet: int = 0,
) -> tuple[pa.Table, list[str]]:
    """n events as a table of strings in sheet order (every column, derived ones too), and the sheet names.

    numbered: ids already given per country (by earlier parts of a large dataset), updated in place;
    first_sheet: the number of the first sheet.
    """
    countries = codebook.countries["country"].tolist()
    iso3 = codebook.countries["iso3"].tolist()
    sub_table = codebook.sub_events
    sub_names = sub_table["sub_event_type"].tolist()
    type_names = list(dict.fromkeys(sub_table["event_type"]))
    type_of_sub = np.array([type_names.index(t) for t in sub_table["event_type"]])
    profiles = [SUB_EVENTS[s] for s in sub_names]

    # Country first, then the article it was coded from (some articles report many more events than others).
    country = _choice(rng, [COUNTRY_WEIGHTS[c] for c in countries], n)
    article = np.empty(n, dtype=np.int64)
    for c in range(len(countries)):
        rows = np.flatnonzero(country == c)
        own = np.flatnonzero(articles.country == c)
        article[rows] = own[_choice(rng, list(rng.gamma(2.0, 1.0, size=len(own))), len(rows))]

    # Dates: up to four weeks before the article; month precision moves to the 1st or the 15th.
    published = articles.published[article]
    event_date = np.maximum(published - rng.integers(0, MAX_DAYS_BEFORE_PUBLICATION + 1, n), FIRST_DAY)
    time_precision = _choice(rng, {1: 0.8, 2: 0.13, 3: 0.07}, n)
    month_start = event_date.astype("datetime64[M]").astype("datetime64[D]")
    day = (event_date - month_start).astype(np.int64) + 1
    event_date = np.where(time_precision == 3, np.where(day >= 15, month_start + 14, month_start), event_date)

    # Sub-event type by country; the event type follows from it.
    sub = np.empty(n, dtype=np.int64)
    for c, name in enumerate(countries):
        factor = COUNTRY_EVENT_TYPE_FACTOR.get(name, {})
        weights = [p.weight * factor.get(t, 1.0) for p, t in zip(profiles, sub_table["event_type"], strict=True)]
        rows = np.flatnonzero(country == c)
        sub[rows] = _choice(rng, weights, len(rows))
    event_type = type_of_sub[sub]

    # Actor types, then actors of those types active in the country on the date.
    inter1 = np.empty(n, dtype=np.int64)
    inter2 = np.empty(n, dtype=np.int64)
    zero_share = np.empty(n)
    mean_fatal = np.empty(n)
    for s, profile in enumerate(profiles):
        rows = np.flatnonzero(sub == s)
        inter1[rows] = _choice(rng, profile.inter1, len(rows))
        inter2[rows] = _choice(rng, profile.inter2, len(rows))
        zero_share[rows], mean_fatal[rows] = profile.zero_fatalities, profile.mean_fatalities
    pools = actor_pools(codebook)
    era = pools.era(event_date)
    position1, _, count1, actors = _grouped_pick(rng, pools.group(country, inter1, era), pools.main)
    position2, start2, count2, _ = _grouped_pick(rng, pools.group(country, inter2, era), pools.main)
    if (count1 == 0).any() or ((count2 == 0) & (inter2 > 0)).any():
        bad = np.flatnonzero((count1 == 0) | ((count2 == 0) & (inter2 > 0)))[0]
        raise SystemExit(
            f"generate_events.py: no actor of type {inter1[bad]}/{inter2[bad]} in {countries[country[bad]]} "
            f"on {event_date[bad]}; extend ADDED_ACTORS or PRESENCE."
        )
    # Two different actors where the pool allows it (Islamic State does not fight itself).
    rotate = (position1 == position2) & (count2 > 1)
    position2 = np.where(rotate, start2 + (position2 - start2 + 1) % np.maximum(count2, 1), position2)
    actor1 = actors.take(pa.array(position1))
    actor2 = _nullify(actors.take(pa.array(position2)), inter2 > 0)

    associated = []
    share = np.array([ASSOCIATED_SHARE.get(i, 0.0) for i in range(9)])
    for inter in (inter1, inter2):
        groups = pools.group(country, inter, era)
        one, _, count, pool = _grouped_pick(rng, groups, pools.associated)
        two, _, _, _ = _grouped_pick(rng, groups, pools.associated)
        wanted = (inter > 0) & (count > 0) & (rng.random(n) < share[inter])
        pairs = wanted & (two != one) & (rng.random(n) < 0.25)
        first = _nullify(pool.take(pa.array(one)), wanted)
        associated.append(_join_present(first, _nullify(pool.take(pa.array(two)), pairs), "; "))

    # Civilian targeting: always where required, where civilians are the target where allowed, never otherwise.
    rule = sub_table["civilian_targeting"].to_numpy()[sub]
    targeted = (rule == "required") | ((rule == "allowed") & (inter2 == 7))
    civilian_targeting = pc.if_else(pa.array(targeted), pa.scalar("Civilian targeting"), pa.scalar(None, pa.string()))

    # Fatalities: mostly none, geometric otherwise, with a heavy tail; capped where the sub-event has a maximum.
    fatal = np.where(rng.random(n) < zero_share, 0, rng.geometric(1 / np.maximum(mean_fatal, 1)))
    fatal = np.where((rng.random(n) < 0.002) & (fatal > 0), fatal * rng.integers(5, 40, n), fatal)
    caps = pd.to_numeric(sub_table["max_fatalities"].replace("", np.nan)).to_numpy()[sub]
    fatal = np.where(np.isnan(caps), fatal, np.minimum(fatal, np.nan_to_num(caps))).astype(np.int64)

    # Places: big towns more often; 4% of rows use an alternate name the place list knows.
    places = codebook.places
    place = np.empty(n, dtype=np.int64)
    for c, name in enumerate(countries):
        own = np.flatnonzero((places["country"] == name).to_numpy())
        rows = np.flatnonzero(country == c)
        place[rows] = own[_choice(rng, list(places["weight"].to_numpy()[own]), len(rows))]
    take_place = pa.array(place)
    admin1, admin2, admin3, canonical = (
        _strings(places[k].to_numpy()).take(take_place) for k in ("admin1", "admin2", "admin3", "location")
    )
    admin3 = pc.if_else(pc.equal(admin3, ""), pa.scalar(None, pa.string()), admin3)
    alternates = [[a.strip() for a in text.split(";") if a.strip()] for text in places["alternate_names"]]
    alternate_pools = {p: names for p, names in enumerate(alternates) if names}
    alternate, _, n_alternates, alternate_flat = _grouped_pick(rng, place, alternate_pools)
    use_alternate = (n_alternates > 0) & (rng.random(n) < 0.04)
    location = pc.if_else(pa.array(use_alternate), alternate_flat.take(pa.array(alternate)), canonical)
    latitude = _strings([f"{float(v):.4f}" for v in places["latitude"]]).take(take_place)
    longitude = _strings([f"{float(v):.4f}" for v in places["longitude"]]).take(take_place)
    geo_precision = _choice(rng, {1: 0.72, 2: 0.2, 3: 0.08}, n)

    # Sources: one to three outlets of the country; the scale lists their distinct scales in vocabulary order.
    source = np.empty(n, dtype=object)
    source_scale = np.empty(n, dtype=object)
    for c, name in enumerate(countries):
        outlets = OUTLETS[name]
        combos: list[tuple[int, ...]] = [(i,) for i in range(len(outlets))]
        combos += [(i, j) for i in range(len(outlets)) for j in range(i + 1, len(outlets))]
        combos += [tuple(sorted(rng.choice(len(outlets), 3, replace=False).tolist())) for _ in range(20)]
        share_of_size = {1: 0.65, 2: 0.28, 3: 0.07}
        size = {k: sum(len(combo) == k for combo in combos) for k in share_of_size}
        names = np.array(["; ".join(outlets[i][0] for i in combo) for combo in combos], dtype=object)
        scales = np.array(
            ["-".join(s for s in codebook.source_scales if s in {outlets[i][1] for i in combo}) for combo in combos],
            dtype=object,
        )
        rows = np.flatnonzero(country == c)
        pick = _choice(rng, [share_of_size[len(combo)] / size[len(combo)] for combo in combos], len(rows))
        source[rows], source_scale[rows] = names[pick], scales[pick]
    source_scale = _nullify(_strings(source_scale), rng.random(n) >= 0.03)

    # Citations: 10% also cite the country's next article; evidence quotes sentences of the event's type.
    per_article = len(type_names) * SENTENCES_PER_TYPE
    last_of_country = np.r_[articles.country[1:] != articles.country[:-1], True]
    next_article = np.where(last_of_country, -1, np.arange(len(articles.ids)) + 1)
    second_article = next_article[article]
    two_articles = (second_article >= 0) & (rng.random(n) < 0.1)
    second_article = np.where(two_articles, second_article, article)
    article_ids = _strings(articles.ids)
    cited = _join_present(
        article_ids.take(pa.array(article)), _nullify(article_ids.take(pa.array(second_article)), two_articles), "; "
    )

    def sentence(of_article: np.ndarray) -> pa.Array:
        index = of_article * per_article + event_type * SENTENCES_PER_TYPE + rng.integers(0, SENTENCES_PER_TYPE, n)
        return articles.sentences.take(pa.array(index))

    second_passage = two_articles | (rng.random(n) < 0.25)
    evidence = _join_present(sentence(article), _nullify(sentence(second_article), second_passage), " ... ")

    # Notes: "On <day> <Month> <year>, <actor1> <what happened> in <place> (<admin2>, <admin1>). <fatalities>".
    months = event_date.astype("datetime64[M]")
    day_of_month = (event_date - months.astype("datetime64[D]")).astype(np.int64) + 1
    month_number = months.astype(np.int64)
    phrases = _strings([text for p in profiles for text in (p.without_actor2, p.with_actor2)])
    fatalities_sentence = pc.if_else(
        pa.array(fatal == 0),
        "The source reports no fatalities.",
        _join(_text(fatal), pc.if_else(pa.array(fatal == 1), " fatality was reported.", " fatalities were reported.")),
    )
    notes = _join(
        "On ", _text(day_of_month), " ", _strings(MONTHS).take(pa.array(month_number % 12)), " ",
        _text(month_number // 12 + 1970), ", ", actor1, " ", phrases.take(pa.array(sub * 2 + (inter2 > 0))),
        pc.fill_null(actor2, ""), " in ", canonical, " (", admin2, ", ", admin1, "). ", fatalities_sentence,
    )  # fmt: skip

    # Tags: crowd sizes for demonstrations, otherwise empty.
    demonstration = np.isin(event_type, [type_names.index(t) for t in ("Protests", "Riots") if t in type_names])
    tags = _nullify(_strings(PROTEST_TAGS).take(pa.array(rng.integers(0, len(PROTEST_TAGS), n))), demonstration)

    # Rows in the order coders enter them: article by article, then by date. One coder per sheet.
    order = np.lexsort((rng.random(n), event_date, article))
    sheet_of_row = np.arange(n) // rows_per_sheet
    n_sheets = int(sheet_of_row[-1]) + 1
    coder = _strings(CODERS).take(pa.array(rng.integers(0, len(CODERS), n_sheets)[sheet_of_row]))

    # Ids: ISO3 + a per-country running number, in sheet and line order.
    sorted_country = country[order]
    number = np.zeros(n, dtype=np.int64)
    for c in range(len(countries)):
        rows = np.flatnonzero(sorted_country == c)
        number[rows] = np.arange(1, len(rows) + 1) + (numbered[c] if numbered is not None else 0)
        if numbered is not None:
            numbered[c] += len(rows)
    event_id = _join(_strings(iso3).take(pa.array(sorted_country)), _text(number))

    take = pa.array(order)
    unordered: dict[str, pa.Array] = {
        "event_date": _strings(np.datetime_as_string(event_date, unit="D")),
        "time_precision": _text(time_precision),
        "event_type": _strings(type_names).take(pa.array(event_type)),
        "sub_event_type": _strings(sub_names).take(pa.array(sub)),
        "actor1": actor1,
        "assoc_actor_1": associated[0],
        "inter1": _text(inter1),
        "actor2": actor2,
        "assoc_actor_2": associated[1],
        "inter2": _text(inter2),
        "civilian_targeting": civilian_targeting,
        "country": _strings(countries).take(pa.array(country)),
        "admin1": admin1,
        "admin2": admin2,
        "admin3": admin3,
        "location": location,
        "latitude": latitude,
        "longitude": longitude,
        "geo_precision": _text(geo_precision),
        "source": _strings(source),
        "source_scale": source_scale,
        "notes": notes,
        "fatalities": _text(fatal),
        "tags": tags,
        "article_id": cited,
        "evidence": evidence,
    }
    columns = {"event_id_cnty": event_id, **{k: v.take(take) for k, v in unordered.items()}, "coder": coder}
    missing = [c for c in codebook.sheet_columns if c not in columns]
    if missing:
        raise SystemExit(f"generate_events.py does not fill the codebook column(s) {missing}.")
    return pa.table(columns), [f"sheet_{first_sheet + i:05d}.csv" for i in range(n_sheets)]


# --- the dataset folder ------------------------------------------------------------------------------------


def write_dataset(
    out_dir: Path, *, events: int, seed: int, rows_per_sheet: int, articles_total: int = DEFAULT_ARTICLES
) -> dict[str, Any]:
    """Create the dataset folder out_dir (which must not exist or be empty); return what was generated."""
    import eventdata  # here, so that `--help` stays fast

    started = time.perf_counter()
    if rows_per_sheet < 1 or events < 1 or articles_total < 1:
        raise SystemExit("--events, --rows-per-sheet and --articles must be at least 1.")
    if np.datetime64(date.today()) < LAST_PUBLISHED:
        raise SystemExit(f"the machine's date is before {LAST_PUBLISHED}; the events would be in the future.")
    try:
        eventdata.init_project(out_dir, name="eventdata-synthetic")
    except eventdata.EventdataError as err:
        raise SystemExit(str(err)) from err
    schemas = out_dir / "schemas"
    shutil.rmtree(schemas)
    digest = codebook_digest()
    shutil.copytree(REPO_SCHEMAS, schemas, ignore=shutil.ignore_patterns("__pycache__"))
    dataset = json.loads((schemas / "dataset.json").read_text(encoding="utf-8"))
    dataset.update(
        name="eventdata-synthetic",
        title=f"Synthetic benchmark events ({events:,} rows, seed {seed})",
        description="Synthetic ACLED-style events made by benchmarks/generate_events.py; not real events.",
        keywords=["benchmark", "synthetic"],
    )
    (schemas / "dataset.json").write_text(json.dumps(dataset, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    countries = [c for c in COUNTRY_WEIGHTS if c in set(_vocabulary(schemas, "countries")["country"])]
    extend_actor_list(schemas, countries)
    extend_place_list(schemas, countries)
    codebook = read_codebook(schemas)
    check_profiles(codebook)

    rng = np.random.default_rng(seed)
    type_names = list(dict.fromkeys(codebook.sub_events["event_type"]))
    articles = make_articles(rng, codebook, type_names, articles_total, seed)
    seeds = out_dir / "seeds"
    for article_id, text in zip(articles.ids, articles.texts, strict=True):
        (seeds / "articles" / f"{article_id}.txt").write_bytes(text.encode("utf-8"))
    with (seeds / "articles.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(articles.index_rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(articles.index_rows)

    # Past PART_EVENTS the events are made in parts of whole sheets, so that memory stays bounded (10M events).
    part = max(rows_per_sheet, PART_EVENTS // rows_per_sheet * rows_per_sheet)
    numbered = np.zeros(len(codebook.countries), dtype=np.int64)
    sheet_names: list[str] = []
    options = pa_csv.WriteOptions(include_header=True, quoting_header="none", eol="\n")
    for start in range(0, events, part):
        table, names = make_events(
            rng, min(part, events - start), codebook, rows_per_sheet, articles,
            numbered=numbered, first_sheet=len(sheet_names),
        )  # fmt: skip
        sheet = table.select(codebook.sheet_columns)
        for number, name in enumerate(names):
            pa_csv.write_csv(sheet.slice(number * rows_per_sheet, rows_per_sheet), seeds / "sheets" / name, options)
        first_sheet = np.repeat(np.array(names, dtype=object), rows_per_sheet)[: table.num_rows]
        registry = pa.table({"event_id_cnty": table["event_id_cnty"], "first_sheet": _strings(first_sheet)})
        with (seeds / "event_ids.csv").open("ab" if start else "wb") as handle:
            header = start == 0
            pa_csv.write_csv(
                registry,
                handle,
                pa_csv.WriteOptions(quoting_style="none", quoting_header="none", eol="\n", include_header=header),
            )
        sheet_names += names
        del table, sheet, registry
    info = {
        "generator_version": GENERATOR_VERSION,
        "codebook_sha256": digest,
        "events": events,
        "seed": seed,
        "rows_per_sheet": rows_per_sheet,
        "articles": len(articles.ids),
        "sheets": len(sheet_names),
        "countries": codebook.countries["country"].tolist(),
        "bytes_of_sheets": sum(p.stat().st_size for p in (seeds / "sheets").glob("*.csv")),
        "seconds": round(time.perf_counter() - started, 2),
    }
    (out_dir / "benchmark.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return info


# --- re-reported events, for duplicate detection (eventdata.duplicates) -------------------------------------

#: Version of duplicate_events' output (1: no notes; 2: notes whose details a re-report carries over or not;
#: 3: an article reports one country's events of one day, so a campaign's days are in different articles).
DUPLICATES_GENERATOR_VERSION = 3
REPORT_SHIFT_DAYS = {0: 0.65, 1: 0.25, 2: 0.10}
#: What an event hit, and with what: the specifics a coder's notes name.
NOTE_TARGETS = (
    "a checkpoint", "the market", "a school", "the hospital", "a mosque", "a bakery", "the police station",
    "farmland", "the water station", "a convoy", "a camp for displaced people", "the town centre",
    "a residential building", "an army post", "the bridge", "a fuel depot",
)  # fmt: skip
NOTE_MEANS = (
    "mortars", "rockets", "artillery", "drones", "heavy machine guns", "small arms", "an IED", "tank fire",
)  # fmt: skip
NOTE_VERBS = {
    "Armed clash": ("clashed with", "fought", "engaged"),
    "Government regains territory": ("retook positions from", "regained ground from", "pushed back"),
    "Shelling/artillery/missile attack": ("shelled", "fired shells at", "bombarded"),
    "Air/drone strike": ("struck", "carried out a strike on", "hit"),
    "Attack": ("attacked", "assaulted", "opened fire on"),
    "Peaceful protest": ("protested against", "demonstrated against", "rallied against"),
    "Mob violence": ("rioted against", "clashed violently with", "stormed"),
}


def _fatality_sentence(n: int, variant: int) -> str:
    if n == 0:
        return ("No fatalities were reported.", "No casualties reported.", "There were no deaths.")[variant]
    return (f"{n} people were killed.", f"{n} killed.", f"Fatalities: {n}.")[variant]


def _note(
    date: pd.Timestamp, a1: str, a2: str | None, sub: str, verb: int, target: int, means: int, place: str,
    admin2: str, admin1: str, fatalities: int, injured: int, variant: int,
) -> str:  # fmt: skip
    """An ACLED-style note ("On <day> <Month> <year>, ..."); target/means/injured below 0 are left out."""
    on = f"On {date.day} {MONTHS[date.month - 1]} {date.year}, "
    whom = f" {a2}" if a2 else ""
    what = f" near {NOTE_TARGETS[target]}" if target >= 0 else ""
    how = f" using {NOTE_MEANS[means]}" if means >= 0 else ""
    hurt = f" {injured} {('people were injured.', 'wounded.', 'others were injured.')[variant]}" if injured > 0 else ""
    return (
        f"{on}{a1} {NOTE_VERBS[sub][verb]}{whom}{what} in {place} ({admin2}, {admin1}){how}. "
        f"{_fatality_sentence(fatalities, variant)}{hurt}"
    )


def _terse_note(date: pd.Timestamp, sub: str, place: str, admin2: str, admin1: str) -> str:
    """A note written from a short wire item that names no specifics."""
    on = f"On {date.day} {MONTHS[date.month - 1]} {date.year}, "
    return f"{on}{sub.lower()} was reported in {place} ({admin2}, {admin1})."


def duplicate_events(
    events: int = 20_000, *, seed: int = DEFAULT_SEED, share: float = 0.1, countries: int = 4, days: int = 730
) -> tuple[pd.DataFrame, set[frozenset[str]], dict[str, str]]:
    """Events with planted re-reports: (events, the true duplicate pairs of ids, alias key → canonical actor).

    Columns are those of a validated events table that duplicate detection reads (plus location and notes). The
    base events are dense the way real data is: towns with villages around them, and campaigns of daily events at
    one place by the same actors and of one sub-event type (distinct events a day apart: the hard negatives). An
    article is one outlet's report of one country's events of one day (generator version 3), so a campaign's days
    are in different articles and compete across articles, as in real data. A share of the events is reported
    again by another outlet's article of the reported day: the date shifted by 0, 1 or 2 days
    (REPORT_SHIFT_DAYS), the place under an alternate name (70%) or a nearby village of the same admin2 (30%),
    actors under their aliases, sometimes no second actor (15%), another sub-event type of the same event type
    (8%) or another event type (4%), and fatalities as reported (55%), a little different (30%) or otherwise (15%).

    Notes (generator version 2) follow the assumptions drawn from the literature on re-reported events: sources
    disagree on the date by a day or two and on the toll (ACLED keeps the most conservative figure and says so in
    the notes; MELTT and xSub match with time and space windows for that reason), but a second report of one event
    names the same specifics. Every event's note, in ACLED's house style, names what was hit (one of 16 targets,
    drawn per event), the means (8; a campaign keeps its means on 70% of its days, so neighbouring days often
    share it), the toll and the injured (half of the events), in wording that varies (three verbs and phrasings).
    A re-report's note is written by another coder from another article: the target carried over (70%), another
    one (15%, the sources disagree) or none (15%); the means carried over (65%), other (15%) or none (20%); the
    injured carried over (50%), another figure (20%) or none (30%); and 12% of re-reports come from a short wire
    item whose note names no specifics at all. So a re-report dated a day off inside a campaign can still be
    indistinguishable from the neighbouring day's event (hard_re_reports lists those pairs), as in real data.
    """
    rng = np.random.default_rng(seed)
    # Places: towns (admin2 seats) with villages within ~12 km; each has two alternate names.
    towns = max(20, events // 400)
    town_country = rng.integers(0, countries, towns)
    town_lat = 33.0 + rng.uniform(0, 4, towns) + town_country * 0.2
    town_lon = 36.0 + rng.uniform(0, 6, towns)
    villages = 6
    place_town = np.repeat(np.arange(towns), villages + 1)
    offset = rng.normal(0, 0.06, (len(place_town), 2))
    offset[:: villages + 1] = 0.0
    place_lat = town_lat[place_town] + offset[:, 0]
    place_lon = town_lon[place_town] + offset[:, 1]
    place_names = np.array([f"Place {i}" for i in range(len(place_town))], dtype=object)
    place_alias = np.array([f"Plaace {i}" for i in range(len(place_town))], dtype=object)
    place_weight = np.where(np.arange(len(place_town)) % (villages + 1) == 0, 6.0, 1.0) * rng.pareto(
        1.5, len(place_town)
    )
    place_weight /= place_weight.sum()
    # Actors: per country, state forces, rebels, militias; each with an alias.
    per_country = 10
    actor_names = np.array([f"Armed group {c}-{k}" for c in range(countries) for k in range(per_country)], dtype=object)
    aliases = {f"ag {c}-{k} (alias)": f"Armed group {c}-{k}" for c in range(countries) for k in range(per_country)}
    alias_of = {v: k for k, v in aliases.items()}
    types = [("Battles", "Armed clash"), ("Battles", "Government regains territory"),
             ("Explosions/Remote violence", "Shelling/artillery/missile attack"),
             ("Explosions/Remote violence", "Air/drone strike"), ("Violence against civilians", "Attack"),
             ("Protests", "Peaceful protest"), ("Riots", "Mob violence")]  # fmt: skip
    type_weight = np.array([0.3, 0.05, 0.25, 0.15, 0.12, 0.08, 0.05])
    # Base events: 40% in campaigns of 3 to 10 daily events at one place by one pair of actors.
    n_campaign_events = int(events * 0.4)
    lengths = rng.integers(3, 11, n_campaign_events // 6 + 1)
    lengths = lengths[: np.searchsorted(np.cumsum(lengths), n_campaign_events) + 1]
    campaign = np.repeat(np.arange(len(lengths)), lengths)[:n_campaign_events]
    day_in = np.arange(len(campaign)) - np.repeat(np.cumsum(lengths) - lengths, lengths)[:n_campaign_events]
    single = events - len(campaign)
    groups = np.concatenate([campaign, len(lengths) + np.arange(single)])
    n_groups = int(groups.max()) + 1
    g_place = rng.choice(len(place_town), n_groups, p=place_weight)
    g_day = rng.integers(0, days, n_groups)
    g_type = rng.choice(len(types), n_groups, p=type_weight / type_weight.sum())
    g_country = town_country[place_town[g_place]]
    g_a1 = g_country * per_country + rng.integers(0, per_country, n_groups)
    g_a2 = g_country * per_country + (g_a1 % per_country + rng.integers(1, per_country, n_groups)) % per_country
    offsets = np.concatenate([day_in, np.zeros(single, dtype=np.int64)])
    place = g_place[groups]
    day = g_day[groups] + offsets
    kind = g_type[groups]
    fatalities = np.where(rng.random(events) < 0.55, 0, rng.geometric(0.25, events))
    # The specifics of each event, and the wording of its note.
    g_means = rng.integers(0, len(NOTE_MEANS), n_groups)
    means = np.where(rng.random(events) < 0.7, g_means[groups], rng.integers(0, len(NOTE_MEANS), events))
    target = rng.integers(0, len(NOTE_TARGETS), events)
    injured = np.where(rng.random(events) < 0.5, 0, rng.geometric(0.15, events))
    verb = rng.integers(0, 3, events)
    variant = rng.integers(0, 3, events)
    base = pd.DataFrame(
        {
            "event_id_cnty": [f"EVT{i}" for i in range(events)],
            "article_id": [f"art-{c}-{d}" for c, d in zip(town_country[place_town[place]], day, strict=True)],
            "country": [f"Country {c}" for c in town_country[place_town[place]]],
            "event_date": FIRST_DAY + day.astype("timedelta64[D]"),
            "location": place_names[place],
            "latitude": place_lat[place].round(4),
            "longitude": place_lon[place].round(4),
            "admin1": [
                f"Province {t % 7}-{c}" for t, c in zip(place_town[place], town_country[place_town[place]], strict=True)
            ],
            "admin2": [f"District {t}" for t in place_town[place]],
            "event_type": [types[k][0] for k in kind],
            "sub_event_type": [types[k][1] for k in kind],
            "actor1": actor_names[g_a1[groups]],
            "actor2": actor_names[g_a2[groups]],
            "fatalities": fatalities,
        }
    )
    details = pd.DataFrame({"target": target, "means": means, "injured": injured, "verb": verb, "variant": variant})
    # ACLED codes one event per day, place, pair of actors and sub-event type: draws that repeat one are one event.
    pair = [" | ".join(sorted(p)) for p in zip(base["actor1"], base["actor2"], strict=True)]
    unique = ~base.assign(pair=pair).duplicated(["event_date", "location", "pair", "sub_event_type"]).to_numpy()
    base, place = base[unique].reset_index(drop=True), place[unique]
    details = details[unique].reset_index(drop=True)
    base["notes"] = [
        _note(*row)
        for row in zip(
            base["event_date"], base["actor1"], base["actor2"], base["sub_event_type"], details["verb"],
            details["target"], details["means"], base["location"], base["admin2"], base["admin1"],
            base["fatalities"], details["injured"], details["variant"], strict=True,
        )
    ]  # fmt: skip
    # Re-reports.
    chosen = np.sort(rng.choice(len(base), int(len(base) * share), replace=False))
    again = base.iloc[chosen].copy().reset_index(drop=True)
    k = len(again)
    shift = rng.choice(list(REPORT_SHIFT_DAYS), k, p=list(REPORT_SHIFT_DAYS.values())) * rng.choice([-1, 1], k)
    again["event_date"] = again["event_date"] + pd.to_timedelta(shift, unit="D")
    same_place = rng.random(k) < 0.7
    old_place = place[chosen]
    town_of = place_town[old_place]
    nearby = town_of * (villages + 1) + rng.integers(0, villages + 1, k)
    new_place = np.where(same_place, old_place, nearby)
    again["location"] = np.where(same_place, place_alias[old_place], place_names[new_place])
    again["latitude"] = place_lat[new_place].round(4)
    again["longitude"] = place_lon[new_place].round(4)
    again["actor1"] = [alias_of[a] if r < 0.5 else a for a, r in zip(again["actor1"], rng.random(k), strict=True)]
    again["actor2"] = [
        None if r < 0.15 else (alias_of[a] if r < 0.6 else a)
        for a, r in zip(again["actor2"], rng.random(k), strict=True)
    ]
    draw = rng.random(k)
    other_sub = draw < 0.08
    other_type = (draw >= 0.08) & (draw < 0.12)
    for i in np.flatnonzero(other_sub | other_type):
        current = again.at[i, "event_type"]
        pool = [t for t in types if (t[0] == current) == bool(other_sub[i]) and t[1] != again.at[i, "sub_event_type"]]
        if pool:
            again.at[i, "event_type"], again.at[i, "sub_event_type"] = pool[rng.integers(0, len(pool))]
    draw = rng.random(k)
    reported = again["fatalities"].to_numpy()
    again["fatalities"] = np.where(
        draw < 0.55, reported,
        np.where(draw < 0.85, np.maximum(0, np.round(reported * rng.uniform(0.7, 1.3, k))).astype(np.int64),
                 rng.geometric(0.25, k)),
    )  # fmt: skip
    # The re-report's note: another coder's words for the specifics the second article carried over.
    was = details.iloc[chosen].reset_index(drop=True)

    def carried(values: np.ndarray, kept: float, other: float, pool: np.ndarray) -> np.ndarray:
        draw = rng.random(k)
        return np.where(draw < kept, values, np.where(draw < kept + other, pool, -1))

    r_target = carried(was["target"].to_numpy(), 0.7, 0.15, rng.integers(0, len(NOTE_TARGETS), k))
    r_means = carried(was["means"].to_numpy(), 0.65, 0.15, rng.integers(0, len(NOTE_MEANS), k))
    r_injured = carried(was["injured"].to_numpy(), 0.5, 0.2, rng.geometric(0.15, k))
    terse = rng.random(k) < 0.12
    r_verb, r_variant = rng.integers(0, 3, k), rng.integers(0, 3, k)
    again["notes"] = [
        _terse_note(d, s, p, a2, a1) if short else _note(d, x, y, s, v, t, m, p, a2, a1, f, h, w)
        for short, d, x, y, s, v, t, m, p, a2, a1, f, h, w in zip(
            terse, again["event_date"], again["actor1"], again["actor2"], again["sub_event_type"], r_verb, r_target,
            r_means, again["location"], again["admin2"], again["admin1"], again["fatalities"], r_injured, r_variant,
            strict=True,
        )
    ]  # fmt: skip
    again["event_id_cnty"] = [f"RPT{i}" for i in range(k)]
    again["article_id"] = [
        f"rep-{c}-{d.date()}" for c, d in zip(again["country"], again["event_date"], strict=True)
    ]  # the other outlet's daily report of the country
    truth = {frozenset((str(base.at[c, "event_id_cnty"]), f"RPT{i}")) for i, c in enumerate(chosen)}
    return pd.concat([base, again], ignore_index=True), truth, aliases


def hard_re_reports(events: pd.DataFrame, truth: set[frozenset[str]]) -> set[frozenset[str]]:
    """The planted pairs whose re-report is dated on another day of the original's campaign (an original event on
    the reported day at the same place, with the same actors and sub-event type): a reader tells them from the
    neighbouring day's event only by the notes."""
    key = ["location", "actor1", "actor2", "sub_event_type"]
    pairs = pd.DataFrame([sorted(pair) for pair in truth], columns=["original", "report"])  # EVT… < RPT…
    fields = events.set_index("event_id_cnty")
    pairs = pairs.join(fields[[*key, "event_date"]], on="original").join(
        fields[["event_date"]].rename(columns={"event_date": "reported"}), on="report"
    )
    base = events[events["event_id_cnty"].str.startswith("EVT")][[*key, "event_date"]]
    other_day = pairs[pairs["reported"] != pairs["event_date"]].drop(columns="event_date")
    hit = other_day.merge(base.rename(columns={"event_date": "reported"}), on=[*key, "reported"])
    return {frozenset(p) for p in zip(hit["original"], hit["report"], strict=True)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("out_dir", type=Path, help="dataset folder to create (must not exist, or be empty)")
    parser.add_argument("--events", type=int, default=DEFAULT_EVENTS, help=f"events (default {DEFAULT_EVENTS:,})")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument(
        "--rows-per-sheet", type=int, default=DEFAULT_ROWS_PER_SHEET, help=f"default {DEFAULT_ROWS_PER_SHEET:,}"
    )
    parser.add_argument("--articles", type=int, default=DEFAULT_ARTICLES, help=f"default {DEFAULT_ARTICLES}")
    args = parser.parse_args(argv)
    info = write_dataset(
        args.out_dir, events=args.events, seed=args.seed, rows_per_sheet=args.rows_per_sheet,
        articles_total=args.articles,
    )  # fmt: skip
    print(
        f"{args.out_dir}: {info['events']:,} events in {info['sheets']} sheets "
        f"({info['bytes_of_sheets'] / 1e6:.1f} MB), {info['articles']} articles, {info['seconds']} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
