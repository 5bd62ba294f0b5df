"""Write asset_impact.csv and ../news_linking/news_linking.csv from the event families below.

Every headline template was written for Meridian (see README.md); company names are made up.
Run: python nlp/training/data/asset_impact/write_sets.py  (deterministic: fixed seed).

Each family is one kind of news with the economics spelled out once: the impact it has on each
asset class of Meridian's universe (for a US investor holding that fund), and the asset classes
the headline is *about* (the linking labels). Headlines are then drawn from the family's
templates with made-up names and numbers filled in.
"""

from __future__ import annotations

import csv
import hashlib
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20261130

UE, DEV, EM = "us_equity", "intl_developed_equity", "emerging_equity"
AGG, TSY, TIPS, CORP = "us_aggregate_bonds", "treasuries", "tips", "corporate_bonds"
RE, GOLD, CASH = "real_estate", "gold", "cash"
CLASSES = (UE, DEV, EM, AGG, TSY, TIPS, CORP, RE, GOLD, CASH)
P, Z, N = "positive", "neutral", "negative"

SLOTS = {
    "us_co": [
        "Harbourline Systems",
        "Quillmark Software",
        "Brandywell Foods",
        "Corvex Semiconductor",
        "Tallpine Retail",
        "Maplecrest Health",
        "Ostrander Motors",
        "Bellhaven Media",
        "Redfern Logistics",
        "Cindertrack Energy",
        "Larkspur Pharma",
        "Glenmoor Airlines",
    ],
    "eu_co": [
        "Vastergaard Industri",
        "Rhenfeld Chemie",
        "Marisol Telecom",
        "Brugmann Bank",
        "Aurelle Luxe",
        "Kronvik Shipping",
        "Lindqvist Auto",
    ],
    "jp_co": ["Kaminari Robotics", "Sakuraba Electric", "Hoshimoto Trading", "Tenzan Motors"],
    "em_co": [
        "Jadeport Holdings",
        "Sertão Mineração",
        "Ganga Infratech",
        "Kaveri Steel",
        "Lotusbay Internet",
        "Andesur Copper",
    ],
    "reit": [
        "Stonegate Office Trust",
        "Cedarline Residential REIT",
        "Parkfield Logistics REIT",
        "Northvale Data Centers",
        "Sunreach Retail Properties",
        "Ironbridge Apartments",
    ],
    "issuer": [
        "Harbourline Systems",
        "Tallpine Retail",
        "Ostrander Motors",
        "Redfern Logistics",
        "Glenmoor Airlines",
        "Bellhaven Media",
    ],
    "bp": ["8", "10", "12", "15", "18", "20", "25"],
    "small_bp": ["3", "4", "5", "6", "7"],
    "month": ["March", "June", "July", "September", "December"],
    "cpi": ["3.4%", "3.7%", "4.1%", "4.6%", "5.2%"],
    "cpi_low": ["2.1%", "2.4%", "2.6%", "2.8%", "2.9%"],
    "dev_place": ["Europe", "Japan", "the euro zone", "Germany", "France", "Britain"],
    "dev_index": ["the DAX", "the FTSE 100", "the Nikkei", "the Stoxx 600", "the CAC 40"],
    "em_place": ["China", "India", "Brazil", "Indonesia", "Mexico", "South Africa"],
    "oil": ["$92", "$95", "$98", "$104"],
    "oil_low": ["$58", "$61", "$64", "$66"],
    "gold_px": ["$2,400", "$2,450", "$2,500", "$2,600"],
    "bill": ["5.3%", "5.4%", "5.1%", "5.25%"],
}

# name: (templates, impacts, linked classes, unlisted classes are neutral)
FAMILIES: dict[str, tuple[list[str], dict[str, str], list[str], bool]] = {
    "yields_fall": (
        [
            "Treasury yields fall as investors bet the Fed is done hiking",
            "10-year Treasury yield drops {bp} basis points after soft jobs data",
            "Bond prices rally, pushing yields to a three-month low",
            "Yields on government debt slide as traders price {month} rate cut",
            "Treasuries gain as long-dated yields retreat from their highs",
            "Benchmark yield sinks to lowest since spring on cooling economy",
            "Bond rally deepens; 30-year yield down {bp} basis points on the week",
            "Investors pour into Treasuries, driving yields lower",
            "Yields ease as Fed officials signal patience on further hikes",
            "Long bonds climb as yields dip below 4%",
            "Treasury yields decline for a third straight session",
        ],
        {TSY: P, AGG: P, TIPS: P, CORP: P, RE: P, CASH: Z},
        [TSY, AGG],
        False,
    ),
    "yields_rise": (
        [
            "Treasury yields jump as traders push back rate-cut bets",
            "10-year yield climbs {bp} basis points to its highest in a year",
            "Bond sell-off deepens as yields surge on strong data",
            "Government bond prices slide, lifting yields across the curve",
            "Long-dated Treasury yields spike after hawkish Fed minutes",
            "Yields climb as investors demand more to hold US debt",
            "Bond rout sends 30-year yield above 5%",
            "Treasuries slump as yields hit a 16-year high",
            "Rising yields weigh on bond funds for a second month",
            "Yields push higher as traders bet on a {month} hike",
        ],
        {TSY: N, AGG: N, TIPS: N, CORP: N, RE: N},
        [TSY, AGG],
        False,
    ),
    "fed_hike": (
        [
            "Fed raises rates by a quarter point and signals more to come",
            "Federal Reserve surprises markets with a half-point hike",
            "Fed lifts its policy rate to the highest in two decades",
            "Powell says the Fed is prepared to raise rates further",
            "Fed officials back another hike in {month} as inflation lingers",
            "Central bank tightens again, pushing short-term rates higher",
        ],
        {TSY: N, AGG: N, UE: N, RE: N, CASH: P, GOLD: N},
        [TSY, AGG, CASH],
        False,
    ),
    "fed_cut": (
        [
            "Fed cuts rates for the first time in four years",
            "Federal Reserve lowers its policy rate by a quarter point",
            "Fed delivers a half-point cut to support a slowing economy",
            "Powell signals rate cuts are coming as inflation cools",
            "Fed officials see room to ease policy in {month}",
            "Central bank trims rates and hints at more cuts ahead",
        ],
        {TSY: P, AGG: P, UE: P, RE: P, CASH: N, CORP: P},
        [TSY, AGG, CASH],
        False,
    ),
    "fed_pause": (
        [
            "Fed holds rates steady, says it will wait for more data",
            "Traders price a {month} Fed pause as hiring slows",
            "Fed leaves rates unchanged for a second meeting and softens its tone",
            "Markets bet the Fed is finished raising rates",
        ],
        {TSY: P, AGG: P, UE: P, RE: P},
        [TSY, AGG],
        False,
    ),
    "inflation_hot": (
        [
            "US consumer prices rise {cpi} from a year ago, above forecasts",
            "Inflation comes in hotter than expected for a second month",
            "Core CPI beats estimates, stoking fears of more Fed hikes",
            "Producer prices jump, signalling inflation is not yet tamed",
            "Inflation re-accelerates as rents and energy costs climb",
            "Surprise rise in consumer prices rattles bond traders",
            "Wage growth and prices outpace forecasts in the latest data",
        ],
        {TIPS: P, TSY: N, AGG: N, GOLD: P, UE: N, RE: N, CORP: N},
        [TIPS, TSY],
        False,
    ),
    "inflation_cool": (
        [
            "US inflation cools to {cpi_low}, the lowest in two years",
            "Consumer prices rise less than expected in {month}",
            "Core inflation slows, easing pressure on the Fed",
            "Inflation falls for a fifth straight month",
            "Softer price data lifts hopes that inflation is beaten",
            "Producer prices fall, pointing to easing inflation",
        ],
        {TSY: P, AGG: P, UE: P, RE: P, CORP: P},
        [TIPS, TSY],
        False,
    ),
    "breakevens_up": (
        [
            "Investors pile into inflation-protected bonds as price worries grow",
            "Breakeven inflation rates climb to a six-month high",
            "Demand for TIPS surges as investors hedge against inflation",
            "Inflation-linked bonds outperform nominal Treasuries this quarter",
        ],
        {TIPS: P, TSY: N},
        [TIPS],
        False,
    ),
    "real_yields_up": (
        [
            "Real yields surge as the Fed signals rates will stay high",
            "Inflation-protected bonds slide as real yields climb",
            "TIPS funds see outflows as inflation expectations fade",
        ],
        {TIPS: N, GOLD: N},
        [TIPS],
        False,
    ),
    "spreads_widen": (
        [
            "Credit spreads widen as investors fret over corporate debt loads",
            "Corporate bonds slide as defaults tick higher",
            "Investment-grade spreads blow out on recession fears",
            "{issuer} cut to junk by Moody's, rattling the credit market",
            "Corporate bond funds suffer record outflows",
            "Companies pay up to borrow as spreads widen {bp} basis points",
            "Credit markets wobble as downgrades outpace upgrades",
            "Investors shun corporate debt as earnings weaken",
        ],
        {CORP: N, TSY: P, UE: N},
        [CORP],
        False,
    ),
    "spreads_tighten": (
        [
            "Credit spreads tighten to the narrowest in two years",
            "Investment-grade bond sales meet record demand",
            "Corporate bonds rally as default fears ease",
            "{issuer} upgraded by S&P on stronger cash flow",
            "Corporate bond funds draw their biggest inflows this year",
            "Blue-chip borrowers sell debt at tightest spreads since 2021",
        ],
        {CORP: P, UE: P},
        [CORP],
        False,
    ),
    "dollar_strong": (
        [
            "Dollar climbs to a 20-year high against major currencies",
            "Strong dollar hits returns on overseas stocks for US investors",
            "Euro and yen slide as the dollar rallies",
            "Dollar surges after upbeat US data",
            "Greenback strengthens as rate gap widens",
            "Emerging currencies tumble as the dollar gains",
        ],
        {DEV: N, EM: N, GOLD: N, UE: Z},
        [DEV, EM],
        False,
    ),
    "dollar_weak": (
        [
            "Dollar slides to a one-year low as rate-cut bets grow",
            "Weaker dollar lifts overseas returns for US investors",
            "Euro and yen rally against a falling dollar",
            "Greenback weakens after soft US data",
            "Emerging market currencies gain as the dollar retreats",
        ],
        {DEV: P, EM: P, GOLD: P, UE: Z},
        [DEV, EM],
        False,
    ),
    "oil_spike": (
        [
            "Oil jumps to {oil} a barrel after OPEC+ extends output cuts",
            "Crude prices surge on Middle East supply fears",
            "Brent climbs above {oil} as inventories fall",
            "Energy prices spike, adding to inflation worries",
        ],
        {TIPS: P, TSY: N, UE: N, GOLD: P},
        [TIPS],
        False,
    ),
    "oil_slump": (
        [
            "Oil slides to {oil_low} as demand worries mount",
            "Crude prices tumble after OPEC+ raises output",
            "Petrol prices fall, easing pressure on household budgets",
            "Brent sinks below {oil_low} on rising inventories",
        ],
        {TIPS: N, TSY: P},
        [TIPS],
        False,
    ),
    "gold_up": (
        [
            "Gold hits a record {gold_px} an ounce as central banks buy",
            "Bullion rallies as investors seek a haven",
            "Gold climbs for a fifth day on rate-cut hopes",
            "Central bank gold purchases reach a record pace",
            "Gold ETFs draw inflows as prices rise",
        ],
        {GOLD: P},
        [GOLD],
        True,
    ),
    "gold_down": (
        [
            "Gold slides to a three-month low as the dollar firms",
            "Bullion drops as investors dump havens",
            "Gold falls below {gold_px} as real yields rise",
            "Gold ETFs see outflows as prices slump",
        ],
        {GOLD: N},
        [GOLD],
        True,
    ),
    "us_stocks_up": (
        [
            "Wall Street hits a record as tech earnings beat forecasts",
            "S&P 500 posts its best week since November",
            "US stocks rally on strong corporate profits",
            "Nasdaq jumps as chipmakers surge",
            "Dow climbs 500 points on upbeat earnings season",
            "US shares extend gains as profit forecasts rise",
            "Big US companies report earnings well above estimates",
        ],
        {UE: P},
        [UE],
        False,
    ),
    "us_stocks_down": (
        [
            "Wall Street slides as earnings disappoint",
            "S&P 500 suffers its worst day in two months",
            "US stocks tumble as profit warnings pile up",
            "Nasdaq drops as tech shares sell off",
            "Dow falls 600 points on growth fears",
            "US shares slump as companies cut forecasts",
        ],
        {UE: N},
        [UE],
        False,
    ),
    "us_single_co": (
        [
            "{us_co} beats quarterly estimates and raises guidance",
            "{us_co} shares fall after the company misses profit forecasts",
            "{us_co} names a new chief executive",
            "{us_co} announces a $200 million share buyback",
            "{us_co} recalls 40,000 units over safety concerns",
            "{us_co} to open a new plant in Ohio",
        ],
        {UE: Z, CORP: Z},
        [UE],
        True,
    ),
    "dev_stocks_up": (
        [
            "European shares climb to a record as banks rally",
            "{dev_index} rises as exporters gain",
            "Stocks in {dev_place} rally on strong earnings",
            "Japanese equities surge as the Nikkei hits a 30-year high",
            "European stocks gain after upbeat factory data",
        ],
        {DEV: P, UE: Z},
        [DEV],
        False,
    ),
    "dev_stocks_down": (
        [
            "European shares slide as recession fears grow",
            "{dev_index} falls as exporters slump",
            "Stocks in {dev_place} tumble on weak earnings",
            "Japanese equities drop as the yen surges",
            "European stocks fall after factory output shrinks",
        ],
        {DEV: N, UE: Z},
        [DEV],
        False,
    ),
    "dev_single_co": (
        [
            "{eu_co} lifts its outlook after strong sales",
            "{jp_co} profit falls short of forecasts",
            "{eu_co} agrees to buy a rival for 2 billion euros",
            "{jp_co} unveils a new factory in Osaka",
        ],
        {DEV: Z},
        [DEV],
        True,
    ),
    "ecb_boj_ease": (
        [
            "ECB cuts rates as euro zone growth stalls",
            "Bank of Japan keeps policy ultra-loose, lifting Tokyo stocks",
            "ECB signals more easing to support the economy",
        ],
        {DEV: P},
        [DEV],
        False,
    ),
    "ecb_boj_tighten": (
        [
            "ECB raises rates again, weighing on European shares",
            "Bank of Japan ends negative rates, hitting Tokyo stocks",
            "ECB warns rates will stay high for longer",
        ],
        {DEV: N},
        [DEV],
        False,
    ),
    "em_stocks_up": (
        [
            "Emerging market stocks rally on {em_place} stimulus",
            "{em_place} shares surge as growth beats forecasts",
            "Emerging market equities draw record inflows",
            "Stocks in {em_place} hit a record as foreign buyers return",
            "Beijing unveils stimulus, sending Chinese stocks higher",
        ],
        {EM: P},
        [EM],
        False,
    ),
    "em_stocks_down": (
        [
            "Emerging market stocks slide as {em_place} growth slows",
            "{em_place} shares tumble on political turmoil",
            "Investors pull money from emerging market equities",
            "Chinese stocks fall as property troubles deepen",
            "Stocks in {em_place} drop as foreign investors flee",
        ],
        {EM: N},
        [EM],
        False,
    ),
    "em_single_co": (
        [
            "{em_co} reports a jump in quarterly profit",
            "{em_co} shares fall after a weak sales update",
            "{em_co} plans a listing in Hong Kong",
        ],
        {EM: Z},
        [EM],
        True,
    ),
    "em_bonds": (
        [
            "Emerging market bond funds suffer heavy outflows",
            "Investors sell {em_place} government bonds as the currency weakens",
            "Emerging market debt rallies as the dollar softens",
            "{em_place} sells $3 billion of dollar bonds",
            "Emerging market bond spreads widen on default worries",
        ],
        {EM: Z, AGG: Z, TSY: Z},
        [],
        False,
    ),
    "reit_up": (
        [
            "REITs rally as mortgage rates fall",
            "{reit} raises its dividend after strong rental growth",
            "Real estate stocks climb on hopes of lower borrowing costs",
            "Data center landlords surge on record leasing",
            "Property shares gain as office occupancy recovers",
            "Mortgage rates drop to a one-year low, lifting real estate",
        ],
        {RE: P},
        [RE],
        False,
    ),
    "reit_down": (
        [
            "REITs slide as office vacancies hit a record",
            "{reit} cuts its dividend as tenants leave",
            "Real estate stocks fall as mortgage rates climb",
            "Commercial property prices drop for a sixth quarter",
            "Landlords struggle to refinance debt at higher rates",
            "Mortgage rates top 7%, weighing on property shares",
        ],
        {RE: N},
        [RE],
        False,
    ),
    "bills_up": (
        [
            "T-bill yields climb to {bill}, the highest since 2007",
            "Money market funds offer the best yields in 15 years",
            "Savers earn more as short-term Treasury bill rates rise",
            "Cash yields top {bill} as the Fed holds rates high",
        ],
        {CASH: P},
        [CASH],
        False,
    ),
    "bills_down": (
        [
            "Money market yields fall as the Fed cuts rates",
            "T-bill yields drop as traders bet on easing",
            "Savers earn less as short-term rates decline",
        ],
        {CASH: N},
        [CASH],
        False,
    ),
    "debt_ceiling": (
        [
            "Debt-ceiling standoff spooks T-bill buyers",
            "Treasury bills maturing in {month} sell off on default fears",
            "Congress deadlock over the debt limit rattles money markets",
        ],
        {CASH: N, UE: N},
        [CASH, TSY],
        False,
    ),
    "auction_weak": (
        [
            "Weak demand at the 10-year Treasury auction pushes yields up",
            "Soft 30-year bond auction sends Treasuries lower",
            "Government borrowing surge weighs on Treasury prices",
        ],
        {TSY: N, AGG: N},
        [TSY, AGG],
        False,
    ),
    "auction_strong": (
        [
            "Strong demand at the 10-year Treasury auction lifts bond prices",
            "Foreign buyers snap up Treasuries at a solid auction",
            "Treasury auction draws record bids, sending yields lower",
        ],
        {TSY: P, AGG: P},
        [TSY, AGG],
        False,
    ),
    "recession_fears": (
        [
            "Recession fears grow as factory orders plunge",
            "Jobless claims jump to the highest in two years",
            "US economy shrinks unexpectedly in the first quarter",
            "Hiring slows sharply as employers cut jobs",
            "Consumer spending falls for a second month",
        ],
        {UE: N, TSY: P, AGG: P, GOLD: P, EM: N, CORP: N},
        [UE, TSY],
        False,
    ),
    "strong_growth": (
        [
            "US employers add far more jobs than expected",
            "US economy grows faster than forecast in the third quarter",
            "Retail sales jump as consumers keep spending",
            "Factory activity expands at the fastest pace in a year",
        ],
        {UE: P, TSY: N, AGG: N, CASH: Z},
        [UE, TSY],
        False,
    ),
    "haven_flight": (
        [
            "Investors flee to havens as conflict escalates",
            "Geopolitical tensions send gold and Treasuries higher",
            "Markets turn risk-off after a surprise military escalation",
            "Banking turmoil sparks a rush into safe assets",
        ],
        {GOLD: P, TSY: P, UE: N, EM: N, DEV: N},
        [GOLD, TSY, UE],
        False,
    ),
    "no_news": (
        [
            "Fed chair to speak at the Jackson Hole symposium next week",
            "Treasury keeps auction sizes unchanged for the quarter",
            "Markets closed on Monday for the holiday",
            "SEC publishes its annual report on market structure",
            "Index provider announces its quarterly rebalance schedule",
            "Trading volumes thin ahead of the holiday weekend",
        ],
        {UE: Z, TSY: Z, AGG: Z},
        [],
        True,
    ),
}

# More phrasings per family, written in a second pass for variety of wording.
EXTRA_TEMPLATES: dict[str, list[str]] = {
    "yields_fall": [
        "Bond market rallies as Treasury yields slip on weak retail sales",
        "Yields tumble after the Fed chair strikes a dovish note",
        "Government bond prices rise as growth worries mount",
        "Two-year yield falls the most since March on rate-cut bets",
        "Treasury yields edge lower ahead of the {month} Fed meeting",
        "Bond investors cheer as yields fall for a fourth week",
    ],
    "yields_rise": [
        "Treasury yields rise after a strong retail sales report",
        "Bond market slides as 10-year yield tops 4.8%",
        "Government bond prices fall on fears of heavy issuance",
        "Two-year yield jumps {bp} basis points as rate-cut hopes fade",
        "Yields edge higher ahead of the {month} Fed meeting",
        "Bond losses mount as yields rise for a fifth week",
    ],
    "fed_hike": [
        "Fed hikes again and warns inflation is still too high",
        "Hawkish Fed lifts rates {bp} basis points above forecasts",
        "Fed policymakers vote to raise the benchmark rate",
        "Fed minutes show officials ready to keep hiking",
    ],
    "fed_cut": [
        "Fed eases policy as hiring slows",
        "Fed cut lifts stocks and bonds alike",
        "Fed lowers borrowing costs for a second time this year",
        "Rate cut from the Fed brings relief to borrowers",
    ],
    "fed_pause": [
        "Fed skips a hike and keeps its options open",
        "Fed pause expected in {month} as price pressures ease",
        "Rate-setters hold fire as the economy cools",
    ],
    "inflation_hot": [
        "Prices climb faster than expected as energy costs jump",
        "Hot inflation print dashes hopes of a {month} cut",
        "Services inflation stays sticky, surprising economists",
        "Inflation expectations jump in a consumer survey",
        "Consumer prices rise {cpi}, the fastest pace this year",
    ],
    "inflation_cool": [
        "Price growth slows more than economists forecast",
        "Cooler inflation data sends bonds higher",
        "Used-car and airfare prices fall, pulling inflation down",
        "Inflation slips to {cpi_low} as energy costs drop",
    ],
    "breakevens_up": [
        "Inflation hedges in demand as breakevens widen",
        "TIPS beat regular Treasuries as inflation fears build",
        "Investors turn to inflation-linked Treasuries",
        "Inflation-protected securities draw inflows for a sixth week",
    ],
    "real_yields_up": [
        "Real yields hit a 15-year high, hurting inflation-linked bonds",
        "Inflation-protected Treasuries lose ground as breakevens narrow",
        "Demand for TIPS fades as inflation worries ease",
        "Inflation-linked bond funds post a third month of losses",
    ],
    "spreads_widen": [
        "Bond investors demand more to lend to companies as risks rise",
        "Corporate borrowing costs jump as credit spreads widen",
        "Rating agencies downgrade a record number of companies",
        "{issuer} bonds slump after a profit warning",
        "Company debt sells off as default rates climb",
    ],
    "spreads_tighten": [
        "Corporate debt rallies as investors hunt for yield",
        "Companies rush to sell bonds as borrowing costs fall",
        "{issuer} bonds gain after strong quarterly results",
        "Credit spreads narrow as recession fears fade",
    ],
    "dollar_strong": [
        "Dollar index rises to its highest since 2002",
        "Yen weakens past 150 per dollar",
        "Euro falls below parity with the dollar",
        "Dollar strength erodes gains on foreign stocks",
    ],
    "dollar_weak": [
        "Dollar index falls to its lowest in a year",
        "Yen strengthens sharply against the dollar",
        "Euro climbs to a 15-month high versus the dollar",
        "Dollar weakness boosts returns on foreign shares",
    ],
    "oil_spike": [
        "Oil prices soar after a pipeline outage",
        "Crude hits {oil} as supply tightens",
        "Gasoline prices climb for a sixth straight week",
    ],
    "oil_slump": [
        "Oil prices plunge as global demand weakens",
        "Crude falls to {oil_low} on a supply glut",
        "Gasoline prices drop for a fourth week",
    ],
    "gold_up": [
        "Gold prices jump as the dollar slips",
        "Bullion tops {gold_px} on safe-haven buying",
        "Investors flock to gold as uncertainty rises",
        "Gold extends its rally to a record high",
    ],
    "gold_down": [
        "Gold prices fall as the dollar strengthens",
        "Bullion slips below {gold_px} an ounce",
        "Gold loses its shine as rates stay high",
        "Gold posts its biggest weekly drop in a year",
    ],
    "us_stocks_up": [
        "US stock market closes at an all-time high",
        "S&P 500 rallies {small_bp}% on the week as earnings impress",
        "American shares gain as profits beat estimates",
        "US equities rise as investors shrug off rate worries",
    ],
    "us_stocks_down": [
        "US stock market falls into correction territory",
        "S&P 500 drops as investors dump tech stocks",
        "American shares slide as earnings forecasts are cut",
        "US equities fall as recession worries grow",
    ],
    "us_single_co": [
        "{us_co} wins a contract with a regional hospital group",
        "{us_co} shares rise after an analyst upgrade",
        "{us_co} sees weaker demand in the second half",
        "{us_co} settles a patent dispute",
    ],
    "dev_stocks_up": [
        "{dev_index} closes at a record high",
        "European markets rally on hopes of ECB cuts",
        "Stocks in {dev_place} extend gains as exporters rally",
        "Japanese stocks climb as foreign investors return",
    ],
    "dev_stocks_down": [
        "{dev_index} drops as energy shares slide",
        "European markets fall as growth stalls",
        "Stocks in {dev_place} fall for a third session",
        "Japanese stocks slide as exporters lose ground",
    ],
    "dev_single_co": [
        "{eu_co} shares rise on a new contract",
        "{jp_co} names a new president",
        "{eu_co} trims its sales forecast",
    ],
    "ecb_boj_ease": [
        "ECB lowers its deposit rate, lifting European stocks",
        "Bank of England cuts rates, boosting London shares",
        "Bank of Japan steps up bond buying to support markets",
    ],
    "ecb_boj_tighten": [
        "Bank of England hikes rates, hitting London shares",
        "ECB tightens policy as euro zone inflation stays high",
        "Bank of Japan raises rates for the first time in years",
    ],
    "em_stocks_up": [
        "{em_place} stocks rally after a rate cut",
        "Emerging market shares hit a two-year high",
        "Foreign investors return to emerging market stocks",
        "Chinese stocks surge as Beijing eases property rules",
    ],
    "em_stocks_down": [
        "{em_place} stocks slump after a surprise rate hike",
        "Emerging market shares fall to a one-year low",
        "Foreign investors dump emerging market stocks",
        "Chinese shares slide as exports shrink",
    ],
    "em_single_co": [
        "{em_co} raises its dividend",
        "{em_co} wins a licence to expand",
    ],
    "em_bonds": [
        "Investors pull cash from emerging market debt funds",
        "{em_place} bond yields jump as the currency slides",
        "Emerging market sovereign bonds draw fresh demand",
        "{em_place} dollar bonds slide on debt restructuring talk",
    ],
    "reit_up": [
        "Property stocks rebound as borrowing costs ease",
        "{reit} reports record occupancy",
        "Real estate investment trusts climb on rate-cut hopes",
        "Apartment landlords gain as rents keep rising",
    ],
    "reit_down": [
        "Property stocks slide as borrowing costs climb",
        "{reit} warns of lower occupancy",
        "Real estate investment trusts fall as refinancing costs bite",
        "Office landlords slump as remote work persists",
    ],
    "bills_up": [
        "Short-term Treasury bill rates hit {bill}",
        "Money market fund assets swell as yields climb",
        "Savers enjoy higher returns on cash as bill rates rise",
    ],
    "bills_down": [
        "Money market fund yields slip below 4%",
        "Short-term bill rates decline after the Fed cut",
        "Cash returns shrink as T-bill yields fall",
    ],
    "debt_ceiling": [
        "Debt-limit fight pushes short-term bill yields higher on default fears",
        "Money market funds dump bills due in {month} over debt-limit risk",
    ],
    "auction_weak": [
        "Treasury auction draws tepid demand, sending yields higher",
        "Heavy government bond supply drags on Treasury prices",
        "Poor bid at the 7-year note sale hits Treasuries",
    ],
    "auction_strong": [
        "Strong bid at the 7-year note sale lifts Treasuries",
        "Solid demand at the Treasury auction pulls yields down",
        "Treasury sale sees robust demand from overseas buyers",
    ],
    "recession_fears": [
        "Economists raise recession odds after weak jobs report",
        "US growth stalls as businesses cut investment",
        "Layoffs spread as the economy slows",
        "Manufacturing slump deepens, stoking recession fears",
    ],
    "strong_growth": [
        "US economy beats forecasts as consumers spend",
        "Jobs report smashes expectations as hiring booms",
        "Services activity accelerates to a six-month high",
        "US unemployment falls to a 50-year low",
    ],
    "haven_flight": [
        "Safe havens rally as markets tumble on war fears",
        "Gold and Treasuries jump as stocks sink",
        "Investors rush to safety after a bank collapse",
    ],
    "no_news": [
        "Fed publishes its meeting calendar for next year",
        "Exchange operator extends trading hours for some products",
        "Treasury names new head of debt management",
        "Stock exchange to close early on Friday",
        "Regulator seeks comment on fund naming rules",
    ],
}
for _family, _templates in EXTRA_TEMPLATES.items():
    FAMILIES[_family][0].extend(_templates)


# Held out of every training set: the two faults must be fixed by generalisation.
KNOWN_FAULTS = (
    "Treasury yields slip as traders price a June Fed pause",
    "Emerging market bond funds suffer outflows",
)


def _fill(template: str, rng: random.Random) -> str:
    out = template
    for slot, values in SLOTS.items():
        token = "{" + slot + "}"
        while token in out:
            out = out.replace(token, rng.choice(values), 1)
    return out


def _headlines(rng: random.Random, variants: int) -> list[tuple[str, str, str]]:
    """(family, template id, headline): up to `variants` fillings of each template."""
    seen: set[str] = set()
    out = []
    for family, (templates, _, _, _) in FAMILIES.items():
        for number, template in enumerate(templates):
            for _ in range(variants if "{" in template else 1):
                headline = _fill(template, rng)
                if headline not in seen and headline not in KNOWN_FAULTS:
                    seen.add(headline)
                    out.append((family, f"{family}/{number}", headline))
    return out


def _split(template_id: str, test_share: float = 0.2) -> str:
    """Test or train by template, so a test headline (and its paraphrases) never trains."""
    bucket = int(hashlib.sha256(template_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "test" if bucket < test_share else "train"


def write() -> None:
    rng = random.Random(SEED)  # noqa: S311 - a reproducible draw, not a secret
    impact_rows = []
    for family, template_id, headline in _headlines(rng, variants=3):
        _, impacts, _, others_neutral = FAMILIES[family]
        pairs = dict(impacts)
        if others_neutral:
            for extra in rng.sample([c for c in CLASSES if c not in pairs], 2):
                pairs[extra] = Z
        for asset_class, impact in sorted(pairs.items()):
            impact_rows.append((headline, asset_class, impact, family, _split(template_id)))
    with (HERE / "asset_impact.csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["headline", "asset_class", "impact", "family", "split"])
        writer.writerows(impact_rows)

    rng = random.Random(SEED + 1)  # noqa: S311 - a reproducible draw, not a secret
    link_rows = []
    for family, template_id, headline in _headlines(rng, variants=2):
        linked = FAMILIES[family][2]
        link_rows.append((headline, " ".join(sorted(linked)), family, _split(template_id)))
    with (HERE.parent / "news_linking" / "news_linking.csv").open(
        "w", newline="", encoding="utf-8"
    ) as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["headline", "asset_classes", "family", "split"])
        writer.writerows(link_rows)


if __name__ == "__main__":
    write()
