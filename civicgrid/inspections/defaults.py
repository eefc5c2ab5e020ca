# ruff: noqa: E501  (a table of bilingual texts reads better unwrapped)
"""The default checklists of the 14 management areas, written from the manual's duties
("Grid service management issues", 1-14), and the default frequencies.

Each item: code (``AA.NN``, kept across versions), answer type, the question and its legal
basis in English and Chinese, severity, the case sub-category of the taxonomy a finding
opens (``cases.taxonomy.SUBS``), the licence kinds whose absence or expiry in the registry
pre-fails it, and the working days given to rectify. The data migration
``0002_default_templates`` loads them as version 1; later changes are new versions made
in the admin.

Which areas are scheduled for which premises is ``due.areas_for``; areas 06 (civil
affairs) and 09 (public facilities) have no schedule of their own and are inspected when
the administrator chooses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Licence kinds of the registry's sites, beside the registry's ``LicenceKind`` values.
SITE_LICENCES = {
    "construction": "construction_permit",
    "education": "education_licence",
    "public_place": "public_health",
}


@dataclass(frozen=True)
class I:  # noqa: E742  (one letter keeps the table below readable)
    code: str
    kind: str
    en: str
    zh: str
    basis_en: str
    basis_zh: str
    severity: str
    category: str = ""
    licences: str = ""
    rectify_days: int = 5
    minimum: float | None = None
    choices: list[dict[str, Any]] = field(default_factory=list)


FIRE_LAW_EN = "Fire Protection Law of the PRC"
FIRE_LAW_ZH = "《中华人民共和国消防法》"

TEMPLATES: dict[str, tuple[str, str, list[I]]] = {
    "01": ("Rental housing and hidden dangers", "出租屋及隐患排查", [
        I("01.01", "yes_no", "The rental is registered with the grid.", "出租屋已登记备案。",
          "Lessors register rental housing and their tenants with the local authority "
          "(Guangdong Regulations on the Service and Management of the Migrant Population).",
          "出租人应当向所在地登记出租屋及承租人信息（《广东省流动人口服务管理条例》）。",
          "rectify", "0101"),
        I("01.02", "yes_no", "Every tenant living here is registered.", "在住租户均已登记。",
          "Migrant residents register their residence within the time set by the regulations "
          "(Interim Regulations on Residence Permits).",
          "流动人口应按规定申报居住登记（《居住证暂行条例》）。", "rectify", "0102"),
        I("01.03", "yes_no", "No room is partitioned or overcrowded beyond its design.",
          "无违规分隔、群租现象。",
          "Rooms may not be partitioned or let beyond their design use (Measures for the "
          "Administration of Commodity Housing Leasing).",
          "不得违规分隔出租或超过设计用途出租（《商品房屋租赁管理办法》）。",
          "rectify", "0103"),
        I("01.04", "yes_no", "No illegal business, production or storage in the rental.",
          "出租屋内无违法经营、生产、储存。",
          "A rental may not be used for unlicensed business or to store dangerous goods "
          f"({FIRE_LAW_EN}, Article 19).",
          f"出租屋不得用于无照经营或储存危险物品（{FIRE_LAW_ZH}第十九条）。",
          "serious", "0104"),
        I("01.05", "photo", "Photo of the common areas and exits.", "公共区域及出口照片。",
          "Kept as the record of the inspection.", "作为检查记录留存。", "advice"),
    ]),
    "02": ("Fire safety", "消防安全", [
        I("02.01", "yes_no", "Evacuation routes and safety exits are clear.",
          "疏散通道、安全出口畅通。",
          f"No one may occupy, block or close evacuation routes or safety exits ({FIRE_LAW_EN}, "
          "Article 28).", f"任何单位、个人不得占用、堵塞、封闭疏散通道、安全出口（{FIRE_LAW_ZH}第二十八条）。",
          "serious", "0201"),
        I("02.02", "yes_no", "Fire extinguishers are present and within their service date.",
          "灭火器配置到位且在有效期内。",
          f"Units equip fire-fighting facilities and keep them in working order ({FIRE_LAW_EN}, "
          "Article 16).", f"单位应当配置消防设施、器材并保持完好有效（{FIRE_LAW_ZH}第十六条）。",
          "rectify", "0202", rectify_days=3),
        I("02.03", "number", "Number of working fire extinguishers.", "有效灭火器数量。",
          "At least one per premises under the configuration standard for extinguishers "
          "(GB 50140).", "按《建筑灭火器配置设计规范》（GB 50140）至少配置一具。",
          "rectify", "0202", minimum=1, rectify_days=3),
        I("02.04", "yes_no", "No electric bicycle is parked or charged indoors, in corridors or "
          "stairwells.", "无电动自行车在室内、楼道、楼梯间停放充电。",
          "Electric bicycles may not be parked or charged in halls, stairwells or evacuation "
          "routes (Provisions on Fire Safety Management of High-rise Civil Buildings).",
          "禁止在门厅、楼梯间、疏散通道停放电动自行车或充电（《高层民用建筑消防安全管理规定》）。",
          "rectify", "0203", rectify_days=1),
        I("02.05", "yes_no", "Living, storage and business are not combined in one space.",
          "不存在“三合一”（住宿、生产储存、经营合用）。",
          f"Places producing, storing or selling goods may not share a building with dwellings "
          f"unless fire standards are met ({FIRE_LAW_EN}, Article 19).",
          f"生产、储存、经营场所与居住场所设置在同一建筑物内的应符合消防技术标准（{FIRE_LAW_ZH}第十九条）。",
          "serious", "0204"),
        I("02.06", "yes_no", "The fire safety acceptance or inspection is held where required.",
          "依法需要的消防验收或检查手续齐全。",
          f"Public gathering places pass the fire safety inspection before opening "
          f"({FIRE_LAW_EN}, Article 15).", f"公众聚集场所投入使用前应通过消防安全检查（{FIRE_LAW_ZH}第十五条）。",
          "rectify", "0204", licences="fire_safety", rectify_days=10),
    ]),
    "03": ("Food and drug safety", "食品药品安全", [
        I("03.01", "yes_no", "The food or drug licence required for the business is held and "
          "valid.", "经营所需的食品或药品许可证齐全有效。",
          "Food production, distribution and catering, and the trade in drugs and medical "
          "devices, require a licence (Food Safety Law, Article 35; Drug Administration Law).",
          "从事食品生产、销售、餐饮服务及药品、医疗器械经营应依法取得许可（《食品安全法》第三十五条、《药品管理法》）。",
          "rectify", "0301",
          licences="food_production,food_distribution,catering,drug,medical_device"),
        I("03.02", "yes_no", "No expired or spoiled food is on sale.", "无销售过期、变质食品。",
          "Trading in food that is spoiled or past its use-by date is prohibited (Food Safety "
          "Law, Article 34).", "禁止经营腐败变质、超过保质期的食品（《食品安全法》第三十四条）。",
          "serious", "0302"),
        I("03.03", "yes_no", "Prescription drugs are sold only against a prescription.",
          "处方药凭处方销售。",
          "Prescription drugs are dispensed only on a physician's prescription (Drug "
          "Administration Law).", "处方药必须凭执业医师处方销售（《药品管理法》）。",
          "rectify", "0303"),
        I("03.04", "choice", "Hygiene of the kitchen or food area.", "后厨或食品区卫生状况。",
          "Food premises are kept clean, with separated raw and cooked food (Food Safety Law, "
          "Article 33).", "食品经营场所应保持清洁，生熟分开（《食品安全法》第三十三条）。",
          "rectify", "0304", choices=[
              {"value": "good", "en": "good", "zh": "好", "fails": False},
              {"value": "fair", "en": "fair", "zh": "一般", "fails": False},
              {"value": "poor", "en": "poor", "zh": "差", "fails": True},
          ]),
        I("03.05", "photo", "Photo of the licence on display.", "许可证悬挂公示照片。",
          "Licences are displayed in a prominent place (Food Safety Law).",
          "许可证应在经营场所显著位置悬挂（《食品安全法》）。", "advice"),
    ]),
    "04": ("Production safety", "安全生产", [
        I("04.01", "yes_no", "Production safety files are kept: responsibilities, training, "
          "hazard checks.", "安全生产台账齐全：责任制、培训、隐患排查记录。",
          "Business units set up a production safety responsibility system and record hazard "
          "checks (Work Safety Law).", "生产经营单位应建立安全生产责任制并记录隐患排查（《安全生产法》）。",
          "rectify", "0402", rectify_days=10),
        I("04.02", "yes_no", "Hazardous chemicals are stored in a designated, separated place.",
          "危险化学品专库专区存放。",
          "Hazardous chemicals are stored in dedicated warehouses or areas (Regulations on the "
          "Safety Management of Hazardous Chemicals).", "危险化学品应当储存在专用仓库、专用场地（《危险化学品安全管理条例》）。",
          "serious", "0401"),
        I("04.03", "yes_no", "Gas cylinders are upright, secured, away from fire and inspected.",
          "燃气瓶直立固定、远离火源并在检验期内。",
          "Gas cylinders are used and kept under the urban gas rules (Regulations on the "
          "Administration of Urban Gas).", "燃气瓶应按规定使用和存放（《城镇燃气管理条例》）。",
          "serious", "0403"),
        I("04.04", "yes_no", "Machine guards and safety signs are in place.",
          "设备防护装置和安全警示标志齐全。",
          "Conspicuous safety warning signs are set up at dangerous places and equipment "
          "(Work Safety Law).", "应在危险场所和设备上设置明显的安全警示标志（《安全生产法》）。",
          "rectify", "0402"),
        I("04.05", "number", "Workers on site.", "现场作业人数。",
          "Recorded for the safety file.", "记入安全台账。", "advice"),
    ]),
    "05": ("Health licences and public health", "卫生许可和公共卫生", [
        I("05.01", "yes_no", "The practice licence (medical institution) or health licence "
          "(public place) is held and valid.", "医疗机构执业许可证或公共场所卫生许可证齐全有效。",
          "No one may practise medicine without a practice licence, and public places need a "
          "health licence (Regulations on Medical Institutions; Regulations on Hygiene in "
          "Public Places).", "未取得执业许可证不得执业，公共场所须取得卫生许可证（《医疗机构管理条例》《公共场所卫生管理条例》）。",
          "rectify", "0503", licences="medical_practice,public_health"),
        I("05.02", "yes_no", "No standing water or rubbish breeding mosquitoes or rats.",
          "无积水、垃圾等病媒生物孳生地。",
          "Units remove vector breeding sites on their premises (Patriotic Health Campaign "
          "rules).", "单位应清除场所内病媒生物孳生地（爱国卫生运动有关规定）。", "rectify", "0502"),
        I("05.03", "yes_no", "Staff serving customers hold valid health certificates.",
          "从业人员持有效健康证明。",
          "Staff in direct contact with customers hold a health certificate (Regulations on "
          "Hygiene in Public Places).", "直接为顾客服务的人员应持有健康合格证明（《公共场所卫生管理条例》）。",
          "advice"),
    ]),
    "06": ("Civil affairs: safety visit", "民政：安全探访", [
        I("06.01", "yes_no", "Nobody on the premises needs urgent help (elderly alone, disabled, "
          "homeless).", "场所内无急需帮助人员（独居老人、残疾人、流浪人员）。",
          "Urgent needs are reported for assistance (Measures for Social Assistance).",
          "发现急难情况应报告救助（《社会救助暂行办法》）。", "serious", "0601"),
        I("06.02", "yes_no", "Residents were told about the services they may apply for.",
          "已告知居民可申请的服务。",
          "Grid administrators provide information about available services (the manual, "
          "responsibility 3).", "网格员向居民提供服务信息（网格员手册职责三）。", "advice"),
    ]),
    "07": ("City appearance", "市容秩序", [
        I("07.01", "yes_no", "No business or goods outside the shop front.", "无店外经营、占道堆放。",
          "Streets and public spaces may not be occupied without approval (Regulations on "
          "City Appearance and Environmental Sanitation).", "未经批准不得占用道路和公共场地（《城市市容和环境卫生管理条例》）。",
          "rectify", "0706", rectify_days=1),
        I("07.02", "yes_no", "No structure added without a permit.", "无违法搭建。",
          "Building without a planning permit is prohibited (Urban and Rural Planning Law).",
          "未取得规划许可不得建设（《城乡规划法》）。", "serious", "0701"),
        I("07.03", "yes_no", "Waste is kept in bins and the frontage is clean.",
          "垃圾入桶，门前整洁（门前三包）。",
          "Frontage units keep their section clean (Regulations on City Appearance and "
          "Environmental Sanitation).", "临街单位负责门前责任区的市容环境卫生（《城市市容和环境卫生管理条例》）。",
          "rectify", "0702", rectify_days=1),
        I("07.04", "yes_no", "No illegal small advertisements posted.", "无乱张贴小广告。",
          "Posting without approval is prohibited (Regulations on City Appearance and "
          "Environmental Sanitation).", "未经批准不得张贴（《城市市容和环境卫生管理条例》）。",
          "advice", "0705"),
    ]),
    "08": ("Education and training institutions", "教育培训机构", [
        I("08.01", "yes_no", "The school or training licence is held and valid.",
          "办学许可证齐全有效。",
          "Private schools and training institutions operate only with an approval licence "
          "(Law on the Promotion of Private Education).", "民办学校和培训机构须取得办学许可证（《民办教育促进法》）。",
          "rectify", "0802", licences="education_licence", rectify_days=10),
        I("08.02", "yes_no", "The surroundings are safe: no hazard at the gate (traffic, "
          "vendors, works).", "校园周边安全，门口无交通、摊贩、施工隐患。",
          "Local authorities keep the surroundings of schools safe (Law on the Protection of "
          "Minors).", "有关部门应当维护校园周边安全（《未成年人保护法》）。", "rectify", "0801"),
        I("08.03", "yes_no", "Evacuation routes are clear and the evacuation plan is posted.",
          "疏散通道畅通，张贴疏散预案。",
          f"Evacuation routes may not be blocked ({FIRE_LAW_EN}, Article 28).",
          f"不得占用、堵塞疏散通道（{FIRE_LAW_ZH}第二十八条）。", "serious", "0201"),
        I("08.04", "number", "Children or students enrolled.", "在册学生人数。",
          "Recorded for the education register (the manual, area 8).", "记入教育登记（网格员手册第8项）。",
          "advice"),
    ]),
    "09": ("Public facilities around the premises", "周边公共设施", [
        I("09.01", "yes_no", "Manhole covers and grates nearby are intact.", "周边井盖、雨水箅子完好。",
          "Damaged urban components are reported for repair (digital urban management "
          "standard GB/T 30428).", "城市部件损坏应上报维修（《数字化城市管理信息系统》GB/T 30428）。",
          "rectify", "0902", rectify_days=2),
        I("09.02", "yes_no", "Street lamps and signs nearby work.", "周边路灯、标志牌完好。",
          "As above.", "同上。", "rectify", "0904", rectify_days=2),
        I("09.03", "yes_no", "The fire hydrant nearby is accessible and intact.",
          "周边消防栓完好可用。",
          f"No one may damage or bury fire hydrants ({FIRE_LAW_EN}, Article 28).",
          f"不得损坏、埋压消火栓（{FIRE_LAW_ZH}第二十八条）。", "rectify", "0905", rectify_days=1),
    ]),
    "10": ("Environmental protection", "环境保护", [
        I("10.01", "yes_no", "The oil-fume purifier is installed and working (catering).",
          "油烟净化设施安装并正常使用（餐饮）。",
          "Catering businesses install and use fume purification equipment (Air Pollution "
          "Prevention and Control Law, Article 81).", "餐饮服务经营者应安装并正常使用油烟净化设施（《大气污染防治法》第八十一条）。",
          "rectify", "1004", rectify_days=10),
        I("10.02", "yes_no", "No sewage is discharged into rain drains or open ground.",
          "无向雨水管网或地面偷排污水。",
          "Discharging pollutants by evading supervision is prohibited (Water Pollution "
          "Prevention and Control Law).", "禁止以逃避监管的方式排放水污染物（《水污染防治法》）。",
          "serious", "1002"),
        I("10.03", "yes_no", "No open burning of waste.", "无露天焚烧垃圾。",
          "Open burning of waste is prohibited (Air Pollution Prevention and Control Law).",
          "禁止露天焚烧垃圾（《大气污染防治法》）。", "serious", "1001"),
        I("10.04", "yes_no", "Noise stays within limits, especially at night.", "噪声不超标，夜间不扰民。",
          "Noise disturbing residents is prohibited (Noise Pollution Prevention and Control "
          "Law).", "禁止产生噪声扰民（《噪声污染防治法》）。", "rectify", "1003", rectify_days=3),
    ]),
    "11": ("Land use and geological hazards", "土地利用和地质灾害", [
        I("11.01", "yes_no", "The land in use matches the approved land; no farmland occupied.",
          "用地与批准相符，未占用耕地。",
          "Occupying farmland without approval is prohibited (Land Administration Law).",
          "禁止未经批准占用耕地（《土地管理法》）。", "serious", "1101"),
        I("11.02", "yes_no", "No sand or soil is being extracted.", "无非法采砂取土。",
          "Extraction without approval is prohibited (Mineral Resources Law).",
          "禁止未经批准采砂取土（《矿产资源法》）。", "serious", "1102"),
        I("11.03", "yes_no", "No sign of a geological hazard: cracks, landslip, subsidence.",
          "无地裂、滑坡、地面塌陷等地质灾害迹象。",
          "Signs of geological hazards are reported at once (Regulations on the Prevention "
          "and Control of Geological Disasters).", "发现地质灾害险情应立即报告（《地质灾害防治条例》）。",
          "serious", "1204"),
    ]),
    "12": ("Construction sites and demolition", "建筑工地和拆除工程", [
        I("12.01", "yes_no", "The construction permit is held, valid and displayed.",
          "施工许可证齐全有效并公示。",
          "Construction starts only after a construction permit is obtained (Construction "
          "Law, Article 7).", "建筑工程开工前应申领施工许可证（《建筑法》第七条）。",
          "serious", "1201", licences="construction_permit"),
        I("12.02", "yes_no", "The site is enclosed and dust is controlled (cover, washing).",
          "工地围蔽，扬尘控制到位（覆盖、冲洗）。",
          "Construction units take dust control measures (Air Pollution Prevention and "
          "Control Law, Article 69).", "施工单位应采取扬尘污染防治措施（《大气污染防治法》第六十九条）。",
          "rectify", "0709", rectify_days=2),
        I("12.03", "yes_no", "Demolition: safety plan, cordon and a qualified contractor.",
          "拆除工程有安全方案、警戒区和有资质施工单位。",
          "Demolition is done by qualified contractors with safety measures (Construction "
          "Law, Article 50).", "房屋拆除应由具备资质的单位承担并采取安全措施（《建筑法》第五十条）。",
          "serious", "1204"),
        I("12.04", "yes_no", "Work at height is protected: harnesses, edge protection.",
          "高处作业有安全带和临边防护。",
          "Work at height follows the safety rules (Work Safety Law).",
          "高处作业应遵守安全规程（《安全生产法》）。", "serious", "0404"),
        I("12.05", "photo", "Photo of the site entrance and permit board.", "工地出入口及公示牌照片。",
          "Kept as the record of the inspection.", "作为检查记录留存。", "advice"),
    ]),
    "13": ("Labour law check", "劳动用工检查", [
        I("13.01", "yes_no", "Written labour contracts are signed with all employees.",
          "与全部员工签订书面劳动合同。",
          "A written labour contract is concluded when an employment relationship is "
          "established (Labour Contract Law, Article 10).", "建立劳动关系应当订立书面劳动合同（《劳动合同法》第十条）。",
          "rectify", "1304", rectify_days=10),
        I("13.02", "yes_no", "No wages are in arrears.", "无拖欠工资。",
          "Wages are paid monthly in currency (Labour Law, Article 50).",
          "工资应当以货币形式按月支付（《劳动法》第五十条）。", "serious", "1303"),
        I("13.03", "yes_no", "No worker is under 16.", "无使用童工（未满16周岁）。",
          "Employing minors under 16 is prohibited (Provisions on the Prohibition of Child "
          "Labour).", "禁止招用未满16周岁的未成年人（《禁止使用童工规定》）。", "serious", "1304"),
    ]),
    "14": ("Commercial registration follow-up", "工商登记后续监管", [
        I("14.01", "yes_no", "The business licence is held and valid.", "营业执照齐全有效。",
          "Market entities register before operating (Regulations on the Registration of "
          "Market Entities).", "市场主体应依法登记后方可经营（《市场主体登记管理条例》）。",
          "rectify", "1401", licences="business"),
        I("14.02", "yes_no", "The business operates at its registered address.", "在登记住所经营。",
          "A change of address is registered (Regulations on the Registration of Market "
          "Entities).", "住所变更应办理变更登记（《市场主体登记管理条例》）。", "rectify", "1402",
          rectify_days=10),
        I("14.03", "yes_no", "The actual business lies within the registered scope.",
          "实际经营未超出登记范围。",
          "Business beyond the registered scope that needs approval is prohibited "
          "(Regulations on the Registration of Market Entities).", "不得超出登记范围从事须经许可的经营（《市场主体登记管理条例》）。",
          "rectify", "1403"),
        I("14.04", "text", "What the business actually does.", "实际经营情况。",
          "Recorded to compare with the registration (the manual, area 14).",
          "记录以与登记信息比对（网格员手册第14项）。", "advice"),
    ]),
}  # fmt: skip

# Days between inspections by area and risk: hidden dangers monthly, catering and rental
# housing quarterly, the rest at least yearly.
FREQUENCIES: dict[str, tuple[int, int]] = {  # area: (high, normal)
    "01": (30, 90), "02": (30, 90), "03": (30, 90), "04": (30, 90), "05": (60, 180),
    "06": (90, 365), "07": (30, 180), "08": (60, 90), "09": (90, 180), "10": (60, 180),
    "11": (30, 90), "12": (14, 30), "13": (90, 365), "14": (180, 365),
}  # fmt: skip


def template_rows() -> list[tuple[str, str, str, list[dict[str, Any]]]]:
    """(area, English title, Chinese title, item field values) for every area."""
    rows = []
    for area, (title_en, title_zh, items) in TEMPLATES.items():
        fields = [
            {
                "position": i, "code": it.code, "kind": it.kind, "text_en": it.en,
                "text_zh": it.zh, "basis_en": it.basis_en, "basis_zh": it.basis_zh,
                "severity": it.severity, "category": it.category, "licences": it.licences,
                "rectify_days": it.rectify_days, "minimum": it.minimum, "choices": it.choices,
            }
            for i, it in enumerate(items, start=1)
        ]  # fmt: skip
        rows.append((area, title_en, title_zh, fields))
    return rows


def defaults_load(template_model: Any, item_model: Any, frequency_model: Any) -> None:
    """Version 1 of every area's checklist and the frequencies, where absent. Takes the models
    so that the data migration (historical models) and ``services.templates_seed`` (after a
    test database was flushed, or by hand) share one loader."""
    for area, title_en, title_zh, items in template_rows():
        if template_model.objects.filter(area=area).exists():
            continue
        template = template_model.objects.create(
            area=area, version=1, title_en=title_en, title_zh=title_zh, active=True
        )
        item_model.objects.bulk_create(item_model(template=template, **row) for row in items)
    for area, (high, normal) in FREQUENCIES.items():
        for risk, days in (("high", high), ("normal", normal)):
            frequency_model.objects.get_or_create(
                area=area, risk=risk, defaults={"every_days": days}
            )
