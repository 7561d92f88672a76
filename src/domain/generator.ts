/**
 * The one deterministic generator of PFA data: the bulk seed, the demo mode and the PEMS
 * simulator all call it, so a sync from the simulator over a seeded database changes nothing.
 *
 * Pure and portable: every value comes from a 32-bit PRNG keyed by (orgId, index) and integer
 * arithmetic only (no Math.pow/exp/log, no Date parsing, no locale), so the same call gives the
 * same JSON on every machine and every Node version. No module state is mutated after load.
 */

export interface GeneratedOrganization {
  id: string;
  name: string;
  records: number;
}

export interface GeneratedRecord {
  pfaId: string;
  data: Record<string, unknown>;
  pemsVersion: string;
}

/** The PEMS `recordid` of a record nobody has touched since it was generated. */
export const GENERATED_PEMS_VERSION = '1';

export const MAX_ORGANIZATIONS = 40;

/** Plausible project portfolios; HOLNG first (the largest). Codes beyond this list are PRJ17…PRJ40. */
const ORGANIZATIONS: readonly (readonly [string, string])[] = [
  ['HOLNG', 'Holston LNG Terminal'],
  ['RIVBR', 'Riverside Bridge Replacement'],
  ['NWHSP', 'Northwest Hospital Campus'],
  ['PTREF', 'Port Charles Refinery Upgrade'],
  ['MTRL2', 'Metro Line 2 Extension'],
  ['AIRT3', 'Airport Terminal 3'],
  ['SKYTW', 'Skyline Tower'],
  ['WNDON', 'Offshore Wind Onshore Works'],
  ['TNLNE', 'Northeast Tunnel'],
  ['SLRPK', 'Desert Solar Park'],
  ['DAMRH', 'Glen Dam Rehabilitation'],
  ['CHMPL', 'Chemical Plant Expansion'],
  ['MINEX', 'Copper Mine Expansion'],
  ['DCTR1', 'Data Center Campus 1'],
  ['HWY45', 'Highway 45 Widening'],
  ['WTRTP', 'Water Treatment Plant'],
];

function organizationAt(position: number): readonly [string, string] {
  const known = ORGANIZATIONS[position];
  if (known) return known;
  const n = position + 1;
  return [`PRJ${n}`, `Project ${n}`];
}

/** i^-0.6 for i = 1..39, precomputed once (Math.pow is not needed at call time). */
const OTHER_WEIGHTS: readonly number[] = Array.from(
  { length: MAX_ORGANIZATIONS - 1 },
  (_, i) => 1 / (i + 1) ** 0.6,
);

/**
 * Deterministic, skewed sizes like a real portfolio; the first is 'HOLNG' and the largest (20% of
 * total: 200,000 of 1,000,000). Sizes sum exactly to totalRecords. orgCount 1..40.
 *
 * The others follow a gentle power law (weight i^-0.6, 1M/12 orgs → 171k down to 40k). With few
 * organizations 20% would not be the largest share, so HOLNG then gets 10% more than the next one.
 */
export function planOrganizations(totalRecords: number, orgCount: number): GeneratedOrganization[] {
  if (!Number.isSafeInteger(totalRecords) || totalRecords < 0) {
    throw new RangeError(`totalRecords must be a non-negative integer, got ${totalRecords}`);
  }
  if (!Number.isInteger(orgCount) || orgCount < 1 || orgCount > MAX_ORGANIZATIONS) {
    throw new RangeError(`orgCount must be an integer from 1 to ${MAX_ORGANIZATIONS}, got ${orgCount}`);
  }
  const weights = OTHER_WEIGHTS.slice(0, orgCount - 1);
  const weightSum = weights.reduce((a, b) => a + b, 0);
  let holngShare = 1;
  if (orgCount > 1) {
    const firstOther = 1 / weightSum; // largest other share per unit of the rest
    holngShare = Math.max(0.2, (1.1 * firstOther) / (1 + 1.1 * firstOther));
  }
  const holng = Math.round(totalRecords * holngShare);
  const rest = totalRecords - holng;
  // Largest-remainder rounding: exact sum, stable order, ties broken by position.
  const exact = weights.map((w) => (rest * w) / weightSum);
  const sizes = exact.map((x) => Math.floor(x));
  let missing = rest - sizes.reduce((a, b) => a + b, 0);
  const byRemainder = exact
    .map((x, i) => ({ i, r: x - Math.floor(x) }))
    .sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of byRemainder) {
    if (missing <= 0) break;
    sizes[i] = (sizes[i] ?? 0) + 1;
    missing--;
  }
  // Tiny totals can round one record past HOLNG: hand such records back to it.
  let first = holng;
  for (let i = 0; i < sizes.length; i++) {
    while ((sizes[i] ?? 0) > first) {
      sizes[i] = (sizes[i] ?? 0) - 1;
      first++;
    }
  }
  const result: GeneratedOrganization[] = [{ id: 'HOLNG', name: 'Holston LNG Terminal', records: first }];
  sizes.forEach((records, i) => {
    const [id, name] = organizationAt(i + 1);
    result.push({ id, name, records });
  });
  return result;
}

// ------------------------------------------------------------------------------------------------
// Equipment catalogue

interface ClassSpec {
  readonly name: string;
  /** Prefix of the equipment tag (CRN-0412). */
  readonly tag: string;
  /** Monthly rental rate range in whole currency units. */
  readonly rate: readonly [number, number];
  /** Purchase price range in whole currency units. */
  readonly price: readonly [number, number];
  readonly makers: readonly (readonly [string, readonly string[]])[];
}

interface CategorySpec {
  readonly name: string;
  /** Relative frequency in a portfolio (integer). */
  readonly weight: number;
  readonly classes: readonly ClassSpec[];
}

const CATEGORIES: readonly CategorySpec[] = [
  {
    name: 'Cranes',
    weight: 5,
    classes: [
      {
        name: 'All Terrain Crane',
        tag: 'CRN',
        rate: [18_000, 48_000],
        price: [450_000, 1_400_000],
        makers: [
          ['Liebherr', ['LTM 1100-5.2', 'LTM 1250-5.1']],
          ['Grove', ['GMK5250L', 'GMK4100L-1']],
          ['Tadano', ['ATF 220G-5', 'AC 4.100L-1']],
        ],
      },
      {
        name: 'Crawler Crane',
        tag: 'CRN',
        rate: [25_000, 90_000],
        price: [700_000, 2_500_000],
        makers: [
          ['Liebherr', ['LR 1300 SX', 'LR 1160']],
          ['Manitowoc', ['MLC300', '2250']],
        ],
      },
      {
        name: 'Rough Terrain Crane',
        tag: 'CRN',
        rate: [9_000, 22_000],
        price: [250_000, 650_000],
        makers: [
          ['Grove', ['RT890E', 'GRT8100']],
          ['Tadano', ['GR-1000XL-4', 'GR-600EX']],
        ],
      },
    ],
  },
  {
    name: 'Aerial Work Platforms',
    weight: 16,
    classes: [
      {
        name: 'Scissor Lift',
        tag: 'AWP',
        rate: [650, 2_200],
        price: [12_000, 45_000],
        makers: [
          ['JLG', ['1930ES', '3246ES', '4069LE']],
          ['Genie', ['GS-2632', 'GS-4069 RT']],
          ['Skyjack', ['SJIII 3219', 'SJ6832 RT']],
        ],
      },
      {
        name: 'Boom Lift',
        tag: 'AWP',
        rate: [1_800, 6_500],
        price: [45_000, 180_000],
        makers: [
          ['JLG', ['600S', '860SJ', '1250AJP']],
          ['Genie', ['S-65', 'Z-45/25J', 'S-85 XC']],
        ],
      },
    ],
  },
  {
    name: 'Earthmoving',
    weight: 10,
    classes: [
      {
        name: 'Excavator',
        tag: 'EXC',
        rate: [6_500, 19_000],
        price: [160_000, 520_000],
        makers: [
          ['Caterpillar', ['320 GC', '336 Next Gen']],
          ['Komatsu', ['PC210LC-11', 'PC360LC-11']],
          ['Hitachi', ['ZX210LC-6', 'ZX350LC-6']],
          ['Volvo', ['EC220E', 'EC380E']],
        ],
      },
      {
        name: 'Dozer',
        tag: 'DOZ',
        rate: [8_000, 21_000],
        price: [240_000, 620_000],
        makers: [
          ['Caterpillar', ['D6', 'D8']],
          ['Komatsu', ['D65PX-18', 'D155AX-8']],
        ],
      },
      {
        name: 'Wheel Loader',
        tag: 'WLD',
        rate: [5_500, 15_000],
        price: [150_000, 420_000],
        makers: [
          ['Caterpillar', ['950M', '966 GC']],
          ['Komatsu', ['WA380-8', 'WA470-8']],
          ['Volvo', ['L90H', 'L120H']],
        ],
      },
    ],
  },
  {
    name: 'Power Generation',
    weight: 9,
    classes: [
      {
        name: 'Diesel Generator',
        tag: 'GEN',
        rate: [900, 7_500],
        price: [18_000, 160_000],
        makers: [
          ['Caterpillar', ['XQ60', 'XQ230', 'XQ425']],
          ['Atlas Copco', ['QAS 150', 'QAS 500']],
          ['Cummins', ['C250D5', 'C500D5']],
        ],
      },
      {
        name: 'Light Tower',
        tag: 'LTW',
        rate: [350, 1_100],
        price: [8_000, 22_000],
        makers: [
          ['Atlas Copco', ['HiLight V5+', 'HiLight H6+']],
          ['Generac', ['MLT6SMD', 'MLT4060']],
        ],
      },
    ],
  },
  {
    name: 'Compressed Air',
    weight: 5,
    classes: [
      {
        name: 'Air Compressor',
        tag: 'CMP',
        rate: [700, 4_800],
        price: [16_000, 95_000],
        makers: [
          ['Atlas Copco', ['XAS 185', 'XATS 400', 'XAVS 650']],
          ['Sullair', ['185DPQ', '375H']],
          ['Doosan', ['P185', 'XP375']],
        ],
      },
    ],
  },
  {
    name: 'Material Handling',
    weight: 8,
    classes: [
      {
        name: 'Telehandler',
        tag: 'TLH',
        rate: [2_400, 7_200],
        price: [85_000, 210_000],
        makers: [
          ['JCB', ['540-170', '510-56']],
          ['Genie', ['GTH-1056', 'GTH-636']],
          ['Caterpillar', ['TL943D', 'TH357D']],
        ],
      },
      {
        name: 'Forklift',
        tag: 'FRK',
        rate: [900, 2_600],
        price: [28_000, 70_000],
        makers: [
          ['Toyota', ['8FGU25', '8FD35U']],
          ['Hyster', ['H50FT', 'H90FT']],
        ],
      },
    ],
  },
  {
    name: 'Welding',
    weight: 5,
    classes: [
      {
        name: 'Welding Machine',
        tag: 'WEL',
        rate: [450, 1_600],
        price: [6_500, 24_000],
        makers: [
          ['Lincoln Electric', ['Vantage 500', 'Ranger 305G']],
          ['Miller', ['Big Blue 400 Pro', 'Trailblazer 325']],
        ],
      },
    ],
  },
  {
    name: 'Site Facilities',
    weight: 11,
    classes: [
      {
        name: 'Office Container',
        tag: 'OFC',
        rate: [600, 2_400],
        price: [14_000, 60_000],
        makers: [
          ['Algeco', ['ST 20', 'Office 40']],
          ['Williams Scotsman', ['Mobile Office 12x60', 'Mobile Office 10x40']],
        ],
      },
      {
        name: 'Storage Container',
        tag: 'STC',
        rate: [120, 450],
        price: [3_500, 9_000],
        makers: [
          ['Mobile Mini', ['20ft Steel', '40ft Steel']],
          ['Algeco', ['Store 20']],
        ],
      },
      {
        name: 'Sanitary Unit',
        tag: 'SAN',
        rate: [300, 1_400],
        price: [6_000, 28_000],
        makers: [
          ['Algeco', ['Sanitary 20']],
          ['Williams Scotsman', ['Restroom Trailer 8 Station']],
        ],
      },
    ],
  },
  {
    name: 'Scaffolding',
    weight: 6,
    classes: [
      {
        name: 'System Scaffold',
        tag: 'SCF',
        rate: [1_500, 12_000],
        price: [40_000, 300_000],
        makers: [
          ['PERI', ['PERI UP Flex']],
          ['Layher', ['Allround', 'SpeedyScaf']],
          ['Safway', ['Systems Scaffold']],
        ],
      },
    ],
  },
  {
    name: 'Pumps',
    weight: 5,
    classes: [
      {
        name: 'Dewatering Pump',
        tag: 'PMP',
        rate: [400, 3_800],
        price: [9_000, 75_000],
        makers: [
          ['Godwin', ['CD150M', 'HL160M']],
          ['Grundfos', ['SE1.80', 'DWK.O.10']],
          ['Atlas Copco', ['PAS 150', 'WEDA D60']],
        ],
      },
      {
        name: 'Concrete Pump',
        tag: 'CPU',
        rate: [9_000, 28_000],
        price: [300_000, 850_000],
        makers: [
          ['Putzmeister', ['M42-5', 'BSF 36-5.16H']],
          ['Schwing', ['S 36 X', 'S 45 SX']],
        ],
      },
    ],
  },
  {
    name: 'Trucks & Vehicles',
    weight: 8,
    classes: [
      {
        name: 'Articulated Dump Truck',
        tag: 'ADT',
        rate: [9_000, 20_000],
        price: [280_000, 640_000],
        makers: [
          ['Volvo', ['A30G', 'A40G']],
          ['Caterpillar', ['730', '745']],
          ['Komatsu', ['HM400-5']],
        ],
      },
      {
        name: 'Pickup Truck',
        tag: 'VEH',
        rate: [900, 2_100],
        price: [35_000, 75_000],
        makers: [
          ['Ford', ['F-250', 'Ranger']],
          ['Toyota', ['Hilux', 'Tundra']],
        ],
      },
      {
        name: 'Water Truck',
        tag: 'WTR',
        rate: [4_000, 9_500],
        price: [120_000, 260_000],
        makers: [
          ['Caterpillar', ['725 Water Truck']],
          ['Kenworth', ['T880 4000 gal']],
        ],
      },
    ],
  },
  {
    name: 'Compaction',
    weight: 4,
    classes: [
      {
        name: 'Vibratory Roller',
        tag: 'ROL',
        rate: [3_200, 8_500],
        price: [90_000, 230_000],
        makers: [
          ['Bomag', ['BW 213 D-5', 'BW 177 D-5']],
          ['Dynapac', ['CA2500D', 'CC1200']],
          ['Caterpillar', ['CS56B']],
        ],
      },
      {
        name: 'Plate Compactor',
        tag: 'PLC',
        rate: [150, 650],
        price: [2_500, 14_000],
        makers: [
          ['Wacker Neuson', ['DPU 6555', 'BPU 3050']],
          ['Bomag', ['BPR 35/60']],
        ],
      },
    ],
  },
  {
    name: 'Formwork',
    weight: 4,
    classes: [
      {
        name: 'Wall Formwork',
        tag: 'FWK',
        rate: [2_000, 14_000],
        price: [60_000, 380_000],
        makers: [
          ['PERI', ['TRIO', 'MAXIMO']],
          ['Doka', ['Framax Xlife', 'Frami Xlife']],
        ],
      },
      {
        name: 'Slab Formwork',
        tag: 'FWK',
        rate: [1_800, 11_000],
        price: [50_000, 300_000],
        makers: [
          ['PERI', ['SKYDECK', 'GRIDFLEX']],
          ['Doka', ['Dokadek 30', 'Dokaflex']],
        ],
      },
    ],
  },
  {
    name: 'Survey & Instruments',
    weight: 2,
    classes: [
      {
        name: 'Total Station',
        tag: 'SRV',
        rate: [900, 2_800],
        price: [18_000, 55_000],
        makers: [
          ['Leica', ['TS16', 'MS60']],
          ['Trimble', ['S7', 'SX12']],
          ['Topcon', ['GT-1200']],
        ],
      },
      {
        name: 'GNSS Receiver',
        tag: 'GPS',
        rate: [600, 1_900],
        price: [12_000, 32_000],
        makers: [
          ['Leica', ['GS18 T']],
          ['Trimble', ['R12i']],
        ],
      },
    ],
  },
  {
    name: 'Heating & Ventilation',
    weight: 2,
    classes: [
      {
        name: 'Indirect Fired Heater',
        tag: 'HTR',
        rate: [700, 2_900],
        price: [14_000, 48_000],
        makers: [
          ['Wacker Neuson', ['HI 400 HD', 'HI 750']],
          ['Frost Fighter', ['IDF350', 'IDF500']],
        ],
      },
      {
        name: 'Ventilation Fan',
        tag: 'VNT',
        rate: [200, 900],
        price: [3_000, 16_000],
        makers: [
          ['Andrews', ['FV 110', 'FV 200']],
          ['Atlas Copco', ['Vent 24']],
        ],
      },
    ],
  },
];

/** Category index by weight: one array lookup per record instead of a cumulative search. */
const CATEGORY_TABLE: readonly number[] = CATEGORIES.flatMap((c, i) => Array<number>(c.weight).fill(i));

const DORS: readonly string[] = ['PROJECT', 'PROJECT', 'PROJECT', 'BEO', 'BEO', 'OWNER'];

/** Area or silo of the project, with the code used in WBS elements. */
const AREAS: readonly (readonly [string, string])[] = [
  ['Area 100 - Site Prep', '100'],
  ['Area 200 - Civil', '200'],
  ['Area 300 - Structural', '300'],
  ['Area 400 - Mechanical', '400'],
  ['Area 500 - Piping', '500'],
  ['Area 600 - Electrical', '600'],
  ['Area 700 - Utilities', '700'],
  ['Silo A - Laydown', 'SA'],
  ['Silo B - Camp', 'SB'],
  ['Silo C - Marine', 'SC'],
];

const COST_CENTERS: readonly string[] = [
  'CC-4100',
  'CC-4150',
  'CC-4200',
  'CC-4310',
  'CC-4420',
  'CC-5100',
  'CC-5250',
];

const REQUESTERS: readonly string[] = [
  'j.alvarez',
  'm.okafor',
  's.nguyen',
  'r.patel',
  'k.schmidt',
  'a.haddad',
  'l.johansson',
  'd.oconnor',
];

const NOTES: readonly string[] = [
  'Standard rental terms; operator not included.',
  'Includes delivery and pickup to laydown yard.',
  'Weekly inspection required per site HSE plan.',
  'Shared between civil and structural crews.',
  'Monthly rate includes maintenance and wear parts.',
  'Extend if mechanical completion slips.',
  'Fuel supplied by site; return full.',
  'Replacement for unit off-hired for repairs.',
  'Night shift use approved by construction manager.',
  'Mobilization dependent on access road completion.',
  'Hold for commissioning support.',
  'Owner-furnished; track for cost allocation only.',
];

// ------------------------------------------------------------------------------------------------
// Dates: day numbers 0 … DAY_COUNT-1 from 2024-01-01, formatted through a table built once.

const DAY_COUNT = 1461; // 2024-01-01 … 2027-12-31 (2024 is a leap year)
const DATES: readonly string[] = (() => {
  const out: string[] = [];
  const monthDays = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  for (let year = 2024; year <= 2027; year++) {
    for (let month = 1; month <= 12; month++) {
      const days = month === 2 && year % 4 === 0 ? 29 : (monthDays[month - 1] ?? 30);
      for (let day = 1; day <= days; day++) {
        out.push(`${year}-${month < 10 ? '0' : ''}${month}-${day < 10 ? '0' : ''}${day}`);
      }
    }
  }
  return out;
})();

function dateAt(day: number): string {
  const clamped = day < 0 ? 0 : day >= DAY_COUNT ? DAY_COUNT - 1 : day;
  return DATES[clamped] as string;
}

// ------------------------------------------------------------------------------------------------
// PRNG

/** FNV-1a over UTF-16 code units (codes are ASCII), 32-bit. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** murmur3's finalizer: spreads consecutive indexes over the whole 32-bit seed space. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** mulberry32: tiny, fast, good enough for test data; state lives in the closure. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)] as T;
}

function intBetween(rand: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** Whole cents as a money string with two decimals ("1250.50"), exact (no float formatting). */
function centsToString(cents: number): string {
  const rest = cents % 100;
  return `${Math.floor(cents / 100)}.${rest < 10 ? '0' : ''}${rest}`;
}

/** The PEMS id of the record at this (0-based) index: index 0 → HOLNG-PFA-0000001. */
export function generatedPfaId(orgId: string, index: number): string {
  return `${orgId}-PFA-${pad(index + 1, 7)}`;
}

/**
 * Pure function of (orgId, index): same output every time, on every machine.
 * `index` is the 0-based position in the organization (0 … records − 1); the pfaId carries
 * index + 1. Shares: ~80% Rental, ~30% actualized, ~5% discontinued, ~1% without isDiscontinued,
 * ~1% of rentals with monthlyRate as a numeric string, ~40% with a forecast moved from the plan.
 */
export function generateRecord(orgId: string, index: number): GeneratedRecord {
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`index must be a non-negative integer`);
  const rand = mulberry32(mix(hashString(orgId) ^ mix(index + 0x9e3779b9)));
  const pfaId = generatedPfaId(orgId, index);

  const category = CATEGORIES[
    CATEGORY_TABLE[Math.floor(rand() * CATEGORY_TABLE.length)] ?? 0
  ] as CategorySpec;
  const cls = pick(rand, category.classes);
  const [manufacturer, models] = pick(rand, cls.makers);
  const model = pick(rand, models);
  const isPurchase = rand() < 0.2;
  const [area, areaCode] = pick(rand, AREAS);

  // Plan: starts over 2024-01 … 2026-12, lasts two weeks to ~18 months, ends by 2027-12-31.
  const originalStart = intBetween(rand, 0, 1095);
  const originalEnd = Math.min(DAY_COUNT - 1, originalStart + intBetween(rand, 14, 540));
  let forecastStart = originalStart;
  let forecastEnd = originalEnd;
  if (rand() < 0.4) {
    // Slips are more common than pull-ins; durations stretch more often than they shrink.
    forecastStart = Math.max(0, originalStart + intBetween(rand, -30, 90));
    forecastEnd = Math.min(DAY_COUNT - 1, Math.max(forecastStart, originalEnd + intBetween(rand, -20, 120)));
  }

  const isActualized = rand() < 0.3;
  let actualStart: string | null = null;
  let actualEnd: string | null = null;
  if (isActualized) {
    const start = Math.max(0, forecastStart + intBetween(rand, -5, 10));
    actualStart = dateAt(start);
    actualEnd = dateAt(Math.max(start, forecastEnd + intBetween(rand, -15, 30)));
  }

  const rateCents = isPurchase ? 0 : intBetween(rand, cls.rate[0] * 100, cls.rate[1] * 100);
  // Prices are quoted to the dollar, with a few odd cents from currency conversion.
  const priceCents = isPurchase
    ? intBetween(rand, cls.price[0], cls.price[1]) * 100 + (rand() < 0.2 ? intBetween(rand, 1, 99) : 0)
    : 0;
  const rateAsString = !isPurchase && rand() < 0.0125;

  const roll = rand();
  const discontinued: boolean | undefined = roll < 0.01 ? undefined : roll < 0.06;

  const year = dateAt(originalStart).slice(0, 4);
  const contract = isPurchase
    ? `PO-${year}-${pad(intBetween(rand, 1, 999_999), 6)}`
    : `RA-${year}-${pad(intBetween(rand, 1, 99_999), 5)}`;
  const equipment = `${cls.tag}-${pad(intBetween(rand, 1, 9999), 4)}`;

  // Key order is fixed (JSON text identical run to run); PEMS-only keys follow the domain keys.
  const data: Record<string, unknown> = {
    pfaId,
    category: category.name,
    class: cls.name,
    source: isPurchase ? 'Purchase' : 'Rental',
    dor: pick(rand, DORS),
    areaSilo: area,
    manufacturer,
    model,
    contract,
    equipment,
    monthlyRate: rateAsString ? centsToString(rateCents) : rateCents / 100,
    purchasePrice: priceCents / 100,
    originalStart: dateAt(originalStart),
    originalEnd: dateAt(originalEnd),
    forecastStart: dateAt(forecastStart),
    forecastEnd: dateAt(forecastEnd),
    actualStart,
    actualEnd,
    isActualized,
    hasActuals: isActualized,
    hasPlan: rand() < 0.97,
    isFundsTransferable: rand() < 0.15,
  };
  if (discontinued !== undefined) data.isDiscontinued = discontinued;
  data.wbs = `WBS-${orgId}-${areaCode}.${pad(intBetween(rand, 1, 40), 2)}.${pad(intBetween(rand, 1, 99), 3)}`;
  data.costCenter = pick(rand, COST_CENTERS);
  data.requestedBy = pick(rand, REQUESTERS);
  data.quantity = 1;
  data.uom = isPurchase ? 'EA' : 'MO';
  data.notes = pick(rand, NOTES);

  return { pfaId, data, pemsVersion: GENERATED_PEMS_VERSION };
}
