"""Self-contained demo ads for ``labelops demo``: realistic, varied, deterministic.

A new user has none of the real datasets, so the demo seeds a server with generated ad
creatives that look like what an ads-integrity vendor team labels in Taiwan and Hong
Kong: e-commerce promotions, 保健食品, 代購, 投資理財 groups on LINE, 線上娛樂城, 電子菸,
仿冒精品, 政治廣告... Each item is a template filled with slot values (products, prices,
phone numbers, LINE IDs, URLs, shop names, cities), so a few thousand items are varied and
never repeat. The class mix is skewed the way real traffic is: about 70 % compliant, the
rest spread unevenly over the violation classes; about 75 % Traditional Chinese.

When to use what:

* :func:`generate_demo_items` -- the items (with their true label, for gold items and for
  simulated labellers).
* :func:`load_demo_taxonomy` -- the matching ``ads-policy`` taxonomy, as a plain dict in
  the taxonomy import contract (``key``, ``version``, ``mode``, ``labels``).
"""

from __future__ import annotations

__all__ = ["DemoItem", "LABEL_SHARES", "generate_demo_items", "load_demo_taxonomy"]

import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

from labelops.errors import InvalidInput
from labelops.types import Language

LABEL_SHARES: dict[str, float] = {
    "compliant": 0.70,
    "misleading_claims": 0.065,
    "financial_scam": 0.055,
    "counterfeit": 0.04,
    "gambling": 0.04,
    "drugs_tobacco_alcohol": 0.035,
    "adult_sexual": 0.025,
    "political": 0.018,
    "weapons": 0.012,
    "hate_harassment": 0.010,
}
"""Share of items per true label. The skew follows what review queues see: scams and
exaggerated health claims are common, weapons and hate rare."""

_ZH_SHARE = 0.75
_MAX_TRIES = 40


@dataclass(frozen=True)
class DemoItem:
    """One generated ad creative."""

    external_id: str
    """Stable id, ``demo-<seed>-<n>`` (1-based, five digits)."""
    text: str
    """The ad copy, as an advertiser would write it."""
    advertiser: str
    """Advertiser (shop or page) name."""
    market: str
    """ISO country code of the targeted market: ``TW``, ``HK``, ``US``, ``SG``."""
    language: Language
    """``"zh-Hant"`` or ``"en"``."""
    true_label: str
    """Key of the correct label in the ``ads-policy`` taxonomy."""
    metadata: dict[str, str | int | float] = field(hash=False)
    """Ad-system fields a labeller sees: placement, format, landing domain, campaign id
    and daily budget (USD). Nothing here may tell the answer: the true label lives only
    in :attr:`true_label`, which the demo seed keeps out of the items it imports."""


def load_demo_taxonomy() -> dict[str, Any]:
    """The demo ``ads-policy`` taxonomy (version 1, single label, 10 labels).

    Returns:
        ``{"key", "version", "mode", "labels": [{"key", "name": {"en", "zh-Hant"},
        "definition": {"en", "zh-Hant"}, "examples": [...]}, ...]}``.

    Example:
        >>> load_demo_taxonomy()["labels"][0]["key"]
        'compliant'
    """
    source = resources.files("labelops.demo") / "ads_policy_taxonomy.yaml"
    data: dict[str, Any] = yaml.safe_load(source.read_text(encoding="utf-8"))
    return data


def generate_demo_items(n: int, *, seed: int = 7) -> list[DemoItem]:
    """Generate ``n`` demo ad creatives with their true labels.

    The same ``n`` and ``seed`` always give the same items. Label counts follow
    :data:`LABEL_SHARES` exactly (largest-remainder rounding), in shuffled order; about
    75 % of items are ``zh-Hant`` (markets TW and HK), the rest English (US, SG, HK, TW).
    Texts never repeat within one call.

    Args:
        n: Number of items, ``>= 0``.
        seed: Random seed.

    Returns:
        ``n`` :class:`DemoItem` objects.

    Raises:
        InvalidInput: ``n`` is negative.

    Example:
        >>> items = generate_demo_items(3, seed=1)
        >>> [item.external_id for item in items]
        ['demo-1-00001', 'demo-1-00002', 'demo-1-00003']
    """
    if n < 0:
        raise InvalidInput("demo.invalid_count", field="n", value=n)
    rng = random.Random(seed)
    labels = _label_quota(n)
    rng.shuffle(labels)
    seen: set[str] = set()
    items: list[DemoItem] = []
    for index, label in enumerate(labels, start=1):
        language: Language = "zh-Hant" if rng.random() < _ZH_SHARE else "en"
        market = _pick_market(rng, label, language)
        for _ in range(_MAX_TRIES):
            template = _pick_template(rng, label, language, market)
            advertiser = rng.choice(_ADVERTISERS[label][language])
            text = _fill(template, rng, _Context(market, language), advertiser)
            if text not in seen:
                break
        else:
            # Only reachable far beyond the documented sizes: a reference code keeps the
            # promise that texts are unique, at the cost of a slightly odd ad.
            text = f"{text} (ref {index})"
        seen.add(text)
        items.append(
            DemoItem(
                external_id=f"demo-{seed}-{index:05d}",
                text=text,
                advertiser=advertiser,
                market=market,
                language=language,
                true_label=label,
                metadata=_metadata(rng, label),
            )
        )
    return items


def _label_quota(n: int) -> list[str]:
    exact = {label: share * n for label, share in LABEL_SHARES.items()}
    counts = {label: int(value) for label, value in exact.items()}
    by_remainder = sorted(exact, key=lambda label: (counts[label] - exact[label], label))
    for label in by_remainder[: n - sum(counts.values())]:
        counts[label] += 1
    return [label for label, count in counts.items() for _ in range(count)]


def _pick_market(rng: random.Random, label: str, language: Language) -> str:
    if label == "political":
        # Election wording (候選人, 公投, Measure B) is specific to one electoral system.
        return "TW" if language == "zh-Hant" else "US"
    if language == "zh-Hant":
        return rng.choices(["TW", "HK"], weights=[80, 20])[0]
    return rng.choices(["US", "SG", "HK", "TW"], weights=[60, 20, 10, 10])[0]


def _pick_template(rng: random.Random, label: str, language: Language, market: str) -> str:
    pool = list(_TEMPLATES[label][language])
    if market == "HK" and language == "zh-Hant":
        pool += _HK_TEMPLATES.get(label, [])
    return pool[rng.randrange(len(pool))]


def _metadata(rng: random.Random, label: str) -> dict[str, str | int | float]:
    # No field names the template or the label: labellers see metadata (issue #19, where
    # a "template" field of "<label>/<language>/<n>" handed them the answer).
    return {
        "placement": rng.choice(["feed", "stories", "reels", "search", "right_column"]),
        "format": rng.choices(["image", "video", "carousel", "text"], weights=[5, 3, 2, 1])[0],
        "landing_domain": _domain(rng, shady=label != "compliant"),
        "campaign_id": f"cmp-{rng.randrange(10**7):07d}",
        "daily_budget_usd": round(rng.lognormvariate(3.5, 1.0), 2),
    }


# --------------------------------------------------------------------------- slot values


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(count))


def _amount(rng: random.Random, market: str) -> int:
    base = rng.choice([rng.randrange(5, 100) * 10 - 1, rng.randrange(3, 60) * 100 - 10])
    if market in ("TW",):
        return base
    return max(9, base // (4 if market == "HK" else 30))


@dataclass(frozen=True)
class _Context:
    market: str
    language: Language


_PRICE_FORMATS: dict[tuple[str, Language], list[str]] = {
    ("TW", "zh-Hant"): ["NT${:,}", "{:,}元", "${:,}", "{:,} 元", "NT$ {:,}"],
    ("HK", "zh-Hant"): ["HK${:,}", "${:,}", "港幣{:,}", "{:,}蚊"],
    ("TW", "en"): ["NT${:,}", "NT$ {:,}"],
    ("HK", "en"): ["HK${:,}", "HK$ {:,}"],
    ("SG", "en"): ["S${:,}", "${:,}"],
    ("US", "en"): ["${:,}", "US${:,}"],
}


def _prices(rng: random.Random, ctx: _Context) -> tuple[str, str]:
    # A price and a higher "original" / threshold price, in one format per ad.
    low = _amount(rng, ctx.market)
    high = int(low * rng.uniform(1.4, 3.0)) // 10 * 10 + 9
    pattern = rng.choice(_PRICE_FORMATS[(ctx.market, ctx.language)])
    return pattern.format(low), pattern.format(high)


def _phone(rng: random.Random, ctx: _Context) -> str:
    market = ctx.market
    if market == "TW":
        return rng.choice(
            [
                f"09{_digits(rng, 2)}-{_digits(rng, 3)}-{_digits(rng, 3)}",
                f"09{_digits(rng, 8)}",
                f"(02)2{_digits(rng, 3)}-{_digits(rng, 4)}",
                f"0{rng.choice('34567')}-{rng.choice('2345')}{_digits(rng, 2)}-{_digits(rng, 4)}",
                f"0800-{_digits(rng, 3)}-{_digits(rng, 3)}",
                f"+886 9{_digits(rng, 2)} {_digits(rng, 3)} {_digits(rng, 3)}",
            ]
        )
    if market == "HK":
        return f"+852 {rng.choice('569')}{_digits(rng, 3)} {_digits(rng, 4)}"
    if market == "SG":
        return f"+65 {rng.choice('89')}{_digits(rng, 3)} {_digits(rng, 4)}"
    return f"({rng.choice(['212', '415', '646', '213', '312'])}) 555-01{_digits(rng, 2)}"


def _line_id(rng: random.Random) -> str:
    stem = rng.choice(
        ["vip", "win", "lucky", "money", "stock", "sweet", "bag", "vape", "rich", "gogo", "ace"]
    )
    tail = rng.choice(
        [_digits(rng, rng.randint(2, 4)), "_" + _digits(rng, 3), "tw" + _digits(rng, 2)]
    )
    return rng.choice(["", "@"]) + stem + tail


_SLUGS = [
    "happygo",
    "lohas",
    "mimi",
    "urbanfit",
    "greenday",
    "yummy",
    "kawa",
    "bestbuy",
    "joy",
    "sunny",
    "mori",
    "lulu",
    "dada",
    "smile",
    "island",
    "formosa",
    "harbour",
    "nana",
]
_SHADY_SLUGS = ["vip", "win", "rich", "lucky", "bet", "fast", "gold", "king", "max", "777"]


def _domain(rng: random.Random, *, shady: bool) -> str:
    if shady:
        stem = rng.choice(_SHADY_SLUGS) + rng.choice(_SHADY_SLUGS) + _digits(rng, 2)
        return f"{stem}.{rng.choice(['vip', 'com', 'cc', 'xyz', 'top', 'net'])}"
    stem = rng.choice(_SLUGS) + rng.choice(["shop", "store", "life", "mall", ""])
    return f"{stem}.{rng.choice(['com.tw', 'com', 'tw', 'com.hk', 'shop'])}"


def _url(rng: random.Random, *, shady: bool) -> str:
    if shady and rng.random() < 0.4:
        host = rng.choice(["bit.ly", "reurl.cc", "lin.ee", "pse.is"])
        code = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(6))
        return f"{host}/{code}"
    scheme = rng.choice(["https://", "https://www.", "www.", ""])
    path = rng.choice(["", "/sale", "/event", f"/p/{_digits(rng, 5)}", "/join", "/lp"])
    return f"{scheme}{_domain(rng, shady=shady)}{path}"


_Slot = Callable[[random.Random, _Context], str]


def _choice(values: list[str]) -> _Slot:
    return lambda rng, _ctx: rng.choice(values)


def _by_market(pools: dict[str, list[str]]) -> _Slot:
    return lambda rng, ctx: rng.choice(pools[ctx.market])


_SLOTS: dict[str, _Slot] = {
    "phone": _phone,
    "line_id": lambda rng, _ctx: _line_id(rng),
    "url": lambda rng, _ctx: _url(rng, shady=False),
    "shady_url": lambda rng, _ctx: _url(rng, shady=True),
    "n": lambda rng, _ctx: str(rng.randint(2, 9)),
    "pct": lambda rng, _ctx: str(rng.choice([10, 15, 20, 25, 30, 40, 50])),
    "ret": lambda rng, _ctx: str(rng.choice([15, 20, 30, 50, 80, 100, 200])),
    "kg": lambda rng, _ctx: str(rng.randint(3, 15)),
    "days": lambda rng, _ctx: str(rng.choice([3, 5, 7, 10, 14, 21, 30])),
    "code": lambda rng, _ctx: (
        rng.choice(["SALE", "VIP", "NEW", "GO", "HAPPY"]) + _digits(rng, rng.randint(2, 3))
    ),
    "city": _by_market(
        {
            "TW": [
                "台北",
                "新北",
                "桃園",
                "新竹",
                "台中",
                "台南",
                "高雄",
                "板橋",
                "信義區",
                "中壢",
            ],
            "HK": ["旺角", "銅鑼灣", "尖沙咀", "沙田", "觀塘", "荃灣", "中環", "元朗", "將軍澳"],
            "US": ["Brooklyn", "Austin", "Seattle", "San Jose", "Chicago", "Denver", "Miami"],
            "SG": ["Orchard", "Tampines", "Jurong", "Bugis", "Tiong Bahru", "Punggol"],
        }
    ),
    "official_line": lambda rng, _ctx: "@" + rng.choice(_SLUGS) + _digits(rng, rng.randint(2, 3)),
    "produce": _choice(
        ["有機蔬菜箱", "愛文芒果", "高山茶", "溫室番茄", "麻豆文旦", "池上米", "芭樂"]
    ),
    "product": _choice(
        [
            "保濕精華液",
            "無線藍牙耳機",
            "氣炸鍋",
            "機能防曬外套",
            "行動電源",
            "掃地機器人",
            "純棉床包組",
            "兒童學習桌",
            "不沾平底鍋",
            "登山後背包",
            "智慧手錶",
            "寵物自動餵食器",
            "有機米",
            "手工皂禮盒",
            "咖啡豆",
            "膠原蛋白飲",
            "瑜珈墊",
            "電動牙刷",
            "除濕機",
            "保溫瓶",
            "洗碗機",
            "抗UV陽傘",
            "鳳梨酥禮盒",
            "羽絨被",
        ]
    ),
    "product_en": _choice(
        [
            "wireless earbuds",
            "air fryer",
            "running shoes",
            "skincare set",
            "standing desk",
            "robot vacuum",
            "yoga mat",
            "coffee beans",
            "phone case",
            "rain jacket",
            "kids' bike",
            "smart watch",
            "cast iron pan",
            "linen sheets",
            "protein bars",
        ]
    ),
    "event": _choice(
        [
            "週年慶",
            "雙11",
            "618",
            "母親節",
            "父親節",
            "中秋節",
            "春節",
            "黑色星期五",
            "開學季",
            "夏季",
        ]
    ),
    "event_en": _choice(
        [
            "Summer sale",
            "Black Friday",
            "Back to school",
            "Spring sale",
            "Holiday deals",
            "Flash sale",
        ]
    ),
    "food": _choice(
        [
            "早午餐",
            "牛肉麵",
            "手搖飲",
            "燒肉吃到飽",
            "港式點心",
            "拉麵",
            "甜點",
            "火鍋",
            "咖啡廳",
            "便當",
        ]
    ),
    "course": _choice(
        [
            "多益衝刺班",
            "Python 入門課",
            "日文檢定班",
            "攝影課",
            "烘焙課",
            "兒童美語",
            "Excel 實戰課",
        ]
    ),
    "supplement": _choice(
        ["酵素", "益生菌", "葉黃素", "魚油", "膠原蛋白", "薑黃錠", "苦瓜胜肽", "納豆紅麴", "藤黃果"]
    ),
    "ailment": _choice(["高血壓", "糖尿病", "痛風", "失眠", "掉髮", "關節退化", "脂肪肝", "近視"]),
    "brand": _choice(
        ["LV", "Gucci", "Chanel", "Hermès", "Prada", "Dior", "Nike", "勞力士", "卡地亞"]
    ),
    "luxury": _choice(["包包", "皮夾", "手錶", "球鞋", "墨鏡", "絲巾", "腰帶", "托特包", "斜背包"]),
    "luxury_en": _choice(["handbags", "watches", "sneakers", "wallets", "sunglasses", "belts"]),
    "vape": _choice(["電子菸", "煙彈", "拋棄式電子菸", "加熱菸", "主機", "小煙"]),
    "flavor": _choice(["葡萄", "芒果", "薄荷", "西瓜", "荔枝", "冰可樂", "藍莓"]),
    "game": _choice(["百家樂", "老虎機", "運彩", "捕魚機", "真人視訊", "六合彩", "電子遊戲"]),
    "bonus": lambda rng, _ctx: str(rng.choice([100, 200, 300, 500, 888, 1000, 3000])),
    "team": _choice(["NBA", "MLB", "英超", "中職", "日職", "歐冠", "NFL"]),
    "candidate": lambda rng, _ctx: str(rng.randint(1, 9)),
    "referendum": lambda rng, _ctx: str(rng.randint(1, 20)),
    "group": _choice(["那些外勞", "外來移民", "新住民", "原住民", "同性戀", "某宗教團體"]),
    "group_en": _choice(
        ["immigrants", "those foreigners", "refugees", "that religion's followers"]
    ),
    "weapon": _choice(["改造空氣槍", "鋼珠槍", "瓦斯槍", "金屬彈頭", "電擊棒", "甩棍", "蝴蝶刀"]),
    "drug": _choice(["減肥藥", "威而鋼", "安眠藥", "大麻軟糖", "笑氣", "肌肉針"]),
    "adult": _choice(["外送茶", "伴遊", "按摩到府", "私密視訊", "約會交友"]),
}


def _fill(template: str, rng: random.Random, ctx: _Context, advertiser: str) -> str:
    values: dict[str, str] = {"shop": advertiser}
    for _, name, _, _ in string.Formatter().parse(template):
        if not name or name in values:
            continue
        if name in ("price", "price2"):
            values["price"], values["price2"] = _prices(rng, ctx)
        else:
            values[name] = _SLOTS[name](rng, ctx)
    return template.format(**values)


# --------------------------------------------------------------------------- advertisers

_ADVERTISERS: dict[str, dict[str, list[str]]] = {
    "compliant": {
        "zh-Hant": [
            "小日子選物",
            "好日子生活館",
            "森林家居館",
            "樂活運動館",
            "美好生活百貨",
            "日日好市集",
            "宅配好物",
            "和風居家",
            "鮮採農場",
            "青田咖啡",
            "晴天書店",
            "港灣茶餐廳",
            "阿嬤的灶腳",
            "好食光烘焙坊",
            "快樂學習網",
            "山海戶外",
        ],
        "en": [
            "Urban Gear",
            "Maple & Co.",
            "Sunny Kitchen",
            "Harbor Outfitters",
            "Green Leaf Market",
            "Pixel Tech Store",
            "Bloom Skincare",
            "Northside Goods",
            "Lighthouse Books",
            "Tiny Paws Pet Supply",
            "Blue Door Bakery",
            "Everyday Home",
        ],
    },
    "adult_sexual": {
        "zh-Hant": ["甜心約會", "夜貓子交友", "私密小舖", "寂寞俱樂部"],
        "en": ["Sweet Dates", "Night Owl Club", "Private Moments"],
    },
    "weapons": {
        "zh-Hant": ["生存遊戲倉庫", "防身用品批發", "軍規精品"],
        "en": ["Tactical Surplus", "Defense Depot", "Freedom Parts"],
    },
    "drugs_tobacco_alcohol": {
        "zh-Hant": ["雲霧小舖", "煙彈批發", "藥妝直送", "深夜酒場"],
        "en": ["Cloud Nine Vapes", "RxFast Pharmacy", "Happy Hour Club"],
    },
    "gambling": {
        "zh-Hant": ["金鑽娛樂城", "神準運彩", "發財娛樂", "百家樂俱樂部"],
        "en": ["Lucky Star Casino", "Golden Bet", "Sure Win Picks"],
    },
    "financial_scam": {
        "zh-Hant": [
            "財富自由學院",
            "股市贏家俱樂部",
            "急用借款中心",
            "幣圈投資學院",
            "在家創業團隊",
        ],
        "en": ["Wealth Academy", "Crypto Insider", "Fast Cash Now", "Smart Money Signals"],
    },
    "misleading_claims": {
        "zh-Hant": ["健康好人生", "瘦身見證館", "美麗秘密", "漢方養生堂", "天然保健坊"],
        "en": ["Miracle Health", "Slim Secret", "Pure Natural Labs"],
    },
    "counterfeit": {
        "zh-Hant": ["名品代購小舖", "國際精品直營", "海外好物代購", "私人收藏", "精品暢貨"],
        "en": ["Luxury Outlet Direct", "Private Collection", "Global Deals Hub"],
    },
    "hate_harassment": {
        "zh-Hant": ["正義聯盟粉專", "鄉民爆料社", "真相傳播站"],
        "en": ["Truth Patriots", "Real Talk Network", "Wake Up Neighbors"],
    },
    "political": {
        "zh-Hant": ["守護家園聯盟", "公民行動陣線", "林志明競選辦公室", "青年參政協會"],
        "en": ["Citizens for Parks", "Committee to Re-elect Mayor Diaz", "Vote Local Coalition"],
    },
}
"""Fictional advertiser names per true label, so that the advertiser fits the ad."""

# --------------------------------------------------------------------------- templates
# Each label has zh-Hant and English templates; {slots} are filled from _SLOTS, {shop} is
# the advertiser. Violating templates carry the signals a labeller learns to spot.

_TEMPLATES: dict[str, dict[str, list[str]]] = {
    "compliant": {
        "zh-Hant": [
            "【{event}限定】{product}特價{price}，全館滿千免運，結帳輸入 {code} 再折{pct}%",
            "{shop}{event}優惠開跑！{product}原價{price2}，現在只要{price}",
            "{city}新開幕 {shop}，{food}平日午間套餐{price}起，歡迎訂位 {phone}",
            "買{product}送收納袋，數量有限送完為止，詳情請見 {url}",
            "{shop}會員日：{product}第二件{n}折，門市與官網 {url} 同步",
            "想學新技能？{course}開放報名，早鳥價{price}，名額{n}0人",
            "{city}{food}推薦！{shop}週一到週五出示廣告送小菜，訂位專線 {phone}",
            "{product}開箱實測｜{shop}三年保固、七天鑑賞期，官方網站 {url}",
            "{shop}{event}：全館{product}{pct}% off，活動至月底",
            "週末親子好去處！{city}{shop}手作體驗{price}／人，線上預約 {url}",
            "新品上市：{product}，限時{price}，加入 LINE 官方帳號 {official_line} 享首購禮",
            "{shop}秋冬新款到貨，{product}多色可選，{event}期間滿千送百",
            "搬家清倉｜{product}出清價{price}，{city}門市自取享額外{pct}%折扣",
            "{course}｜{shop}線上直播教學，{n}堂課{price}，報名 {url}",
            "{city}在地小農直送 {produce}，{shop}產地到餐桌，訂購專線 {phone}",
            "{shop}會員招募中，加入即享生日禮{price}購物金，詳情 {url}",
        ],
        "en": [
            "{event_en}: {product_en} now {price}, free shipping over {price2}. Code {code}",
            "New at {shop}: {product_en} from {price}. Shop at {url}",
            "{shop} in {city} is hiring baristas. Apply at {url}",
            "Save {pct}% on {product_en} this week only at {shop}",
            "Grand opening in {city}! {shop} - first {n}0 customers get a free tote",
            "Learn to code in {n} weeks. Online bootcamp from {price}, see {url}",
            "{shop}: {product_en} with a 2-year warranty, {price}. Call {phone}",
            "{event_en} at {shop} - buy one {product_en}, get one {pct}% off",
        ],
    },
    "adult_sexual": {
        "zh-Hant": [
            "寂寞嗎？{city}{adult}，學生妹 OL 都有，加賴 {line_id}",
            "{city}{adult} 最快30分鐘到，私訊 {line_id} 看照片",
            "男人必備 持久{n}0分鐘 私密包裝 貨到付款 {price}",
            "深夜限定 真人{adult} 免費試看 {shady_url}",
            "{shop}：今晚不寂寞，{city}{adult}一節{price}，LINE：{line_id}",
        ],
        "en": [
            "Lonely tonight? Hot singles in {city} want to meet you: {shady_url}",
            "Discreet companionship in {city}, {price}/hr. Message {line_id}",
            "Last {n}0 minutes longer - no prescription, discreet shipping, {price}",
        ],
    },
    "weapons": {
        "zh-Hant": [
            "{weapon} 可改裝 威力加強 私訊報價 LINE：{line_id}",
            "防身必備 {weapon} 不用登記 隱密出貨 {price}",
            "{weapon}零件現貨 {city}面交或貨到付款 洽 {phone}",
            "生存遊戲玩家看過來 {weapon} 改金屬彈頭 加賴 {line_id}",
        ],
        "en": [
            "Untraceable parts kits, ships discreetly. {price}, order at {shady_url}",
            "Self-defense stun guns, no permit needed, {price}. DM {line_id}",
            "Ghost gun builds - full kit {price}, no background check",
        ],
    },
    "drugs_tobacco_alcohol": {
        "zh-Hant": [
            "{vape}{flavor}口味 現貨 超商取貨 {price}，加賴 {line_id}",
            "{vape} 一盒{price} 買{n}送1 隱密包裝 不用驗證年齡",
            "免處方{drug} 一週見效 私訊下單 {line_id}",
            "{drug}現貨 {city}可面交 洽 {phone}",
            "喝到飽！啤酒無限暢飲{price}，未滿18也歡迎 {city}{shop}",
            "{shop} {vape}批發 {flavor}、{flavor}口味 官網 {shady_url}",
        ],
        "en": [
            "Buy {drug} online, no prescription needed. Order at {shady_url}",
            "Disposable vapes {price} for {n} - no ID check, fast delivery",
            "Bottomless drinks {price}, no ID no problem, {city}",
        ],
    },
    "gambling": {
        "zh-Hant": [
            "線上娛樂城 首儲送{bonus}%，{game} 24小時快速出金 {shady_url}",
            "{team}運彩分析 包牌穩贏 加LINE：{line_id} 報明牌",
            "註冊就送{bonus}元彩金！{game}天天返水 {shady_url}",
            "{shop} {game} 下注最低{price}，贏了當天出金，LINE ID：{line_id}",
            "{game}必勝攻略 月入{ret}萬不是夢 加賴 {line_id}",
            "{team}今晚賽事 讓分盤 代客下注 洽 {phone}",
        ],
        "en": [
            "Get a {price} free bet - withdraw winnings instantly at {shady_url}",
            "{team} picks that never lose. Join VIP: {line_id}",
            "Sign up today, {bonus}% deposit bonus on slots and live casino",
        ],
    },
    "financial_scam": {
        "zh-Hant": [
            "股市老師帶你飆股 保證月獲利{ret}%，加入 LINE 投資群 {line_id} 免費領飆股",
            "知名財經主播推薦：跟著操作{days}天賺{ret}萬，名額有限 {shady_url}",
            "免聯徵 免保人 當天撥款 先繳手續費{price}即可核貸 洽 {phone}",
            "虛擬貨幣量化交易 穩賺不賠 日領{pct}%收益 {shady_url}",
            "在家兼職 手機打字 日領{price} 加賴 {line_id}",
            "{shop} AI 選股 勝率98% 保證獲利 免費體驗 {line_id}",
            "急用錢？{city}小額借款 {price}起 免審核 LINE：{line_id}",
        ],
        "en": [
            "Double your BTC in {days} days - guaranteed returns, join {shady_url}",
            "Earn {price} a day from home, no experience. Message {line_id}",
            "Bad credit OK! Loans approved in 1 hour, small fee {price} upfront",
            "This trading bot made {ret}% last month. Free access: {shady_url}",
        ],
    },
    "misleading_claims": {
        "zh-Hant": [
            "喝一個月{ailment}改善，醫生都不告訴你的{supplement}秘方 {price}",
            "{days}天瘦{kg}公斤 不運動不節食 {supplement}無效退費",
            "{supplement}一天一顆 根治{ailment} 限時{price}",
            "最後{n}組！原價{price2}今天只要{price}（天天都是最後{n}組）",
            "{shop}獨家{supplement}，吃了{ailment}不再找上門，官網 {url}",
            "擦一次年輕{n}歲！{product}使用前後對比 保證有效",
            "{supplement}＋{supplement}雙效配方 {days}天告別{ailment} 洽 {phone}",
        ],
        "en": [
            "Doctors hate this: reverse wrinkles in {days} days",
            "Lose {kg} kg in {days} days without diet or exercise - {price}",
            "This tea cures diabetes naturally. Only {n} bottles left at {price}",
            "{shop} miracle formula ends joint pain forever, money-back guarantee",
        ],
    },
    "counterfeit": {
        "zh-Hant": [
            "{brand}經典{luxury} 1:1原單 {price} 附盒附發票",
            "{brand}{luxury} 頂級復刻 專櫃品質 私訊 {line_id}",
            "{brand}{luxury} A貨 鏡面版 全台最低{price}",
            "海外代購{brand}{luxury} 工廠流出 一折價{price} 洽 {line_id}",
            "{shop}：{brand}{luxury}原廠公司貨{pct}折 {price}，貨到付款 {shady_url}",
        ],
        "en": [
            "{brand} {luxury_en} mirror quality, 90% off retail - {price}",
            "1:1 replica {luxury_en}, {brand} logo, ships worldwide: {shady_url}",
            "Authentic-look {brand} {luxury_en} for just {price}, DM {line_id}",
        ],
    },
    "hate_harassment": {
        "zh-Hant": [
            "{group}就是社會毒瘤 滾出我們的{city}",
            "{city}的房東注意：不要租給{group}，他們都一樣",
            "這個女人是小三 電話 {phone} 大家去問候她",
            "{group}搶走你的工作！轉傳讓大家看清楚 {shady_url}",
        ],
        "en": [
            "Keep {group_en} out of {city}. They ruin everything.",
            "Don't hire {group_en} - see why at {shady_url}",
            "This guy scammed me, here's his number {phone} - let him hear it",
        ],
    },
    "political": {
        "zh-Hant": [
            "投票日請支持{candidate}號候選人，守護{city}的未來",
            "公投第{referendum}案請投同意票，為下一代把關",
            "{city}市議員候選人政見發表會，本週六晚上七點 {url}",
            "反對漲價！連署支持{city}交通補助法案 {url}",
            "{candidate}號 唯一不拿財團錢的候選人，小額捐款 {url}",
        ],
        "en": [
            "Vote YES on Measure {referendum} this November - paid for by Citizens for Parks",
            "Re-elect our mayor for a safer {city}. Donate at {url}",
            "Town hall with the candidates in {city} this Saturday, RSVP {url}",
        ],
    },
}

# Hong Kong Cantonese wording for zh-Hant ads targeted at HK.
_HK_TEMPLATES: dict[str, list[str]] = {
    "compliant": [
        "{shop}{event}大減價，{product}只係{price}，滿{price2}包郵",
        "{city}新店開張！{food}下午茶{price}，電話 {phone}",
        "{product}今個月買一送一，WhatsApp {phone} 查詢",
    ],
    "gambling": ["{game}即玩即贏，首存送{bonus}%，WhatsApp {phone}"],
    "financial_scam": ["跟住老師炒股，一個月賺{ret}%，即刻入 WhatsApp 群 {phone}"],
    "counterfeit": ["{brand}{luxury} 原單貨 {price} 有找，{city}交收"],
    "misleading_claims": ["{supplement}食一個月，{ailment}好返晒，{price}兩盒"],
}
