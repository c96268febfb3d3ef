// Strings of the games pages, English and Nepali (kept beside the pages; same keys in both).
import {lang} from "../i18n.js";

export const EN = {
  "title": "Games", "lobby": "Games lobby", "p": "AI wins {p} % of contests (allowed: 35–55 %)",
  "house": "House share {h} %", "chance": "Game of chance", "skill": "Skill contest",
  "notAllowed": "Not for you: {why}", "pack": "Your rules ({cc})", "maxStake": "Max stake {n} coins",
  "lossLimit": "Daily loss limit {n} coins", "live": "Rounds you can join", "recent": "Finished rounds",
  "none": "Nothing here right now.", "open": "Open", "join": "Join for {n} coins", "team": "Team",
  "teamA": "Team A", "teamB": "Team B", "tickets": "Tickets", "buy": "Buy tickets ({n} coins each)",
  "newChallenge": "New challenge", "stake": "Stake (coins)", "start": "Start",
  "status": "Status: {s}", "seedHash": "Seed commitment (sha256)", "serverSeed": "Revealed server seed",
  "puzzle": "Solve: {text}", "answer": "Answer", "send": "Send", "question": "Question {n}",
  "timeLeft": "{n} s left", "result": "Result", "youWon": "You won {n} coins!", "payouts": "Payouts",
  "verify": "Check the proof in this browser", "verified": "Verified in your browser: {n} draws match the revealed seed.",
  "verifyFailed": "Proof check FAILED: {why}", "notRevealed": "The server seed is revealed when the round ends.",
  "drawsAt": "Draw at {t}", "pot": "Pot {n} coins", "players": "{n} players", "round": "Round",
  "tournaments": "Tournaments", "register": "Register ({n} coins)", "bracket": "Bracket",
  "bye": "bye", "winner": "winner", "place": "Place {n}", "yourMatch": "Your match: {text}",
  "admin": "Game settings", "aiWinRate": "AI win rate (0.35–0.55)", "houseShare": "House share (0–0.5)",
  "save": "Save", "saved": "Saved", "report": "AI win rate report (99 % Wilson)", "window": "Window",
  "configured": "p", "observed": "Observed", "interval": "99 % interval", "rounds": "Rounds",
  "outOfBand": "OUT OF BAND", "ok": "ok", "newTournament": "New tournament", "name": "Name",
  "format": "Format", "single": "Single elimination", "double": "Double elimination", "entryFee": "Entry fee",
  "startsIn": "Starts in (minutes)", "create": "Create", "newLottery": "New lottery", "price": "Ticket price",
  "drawIn": "Draw in (minutes)", "game": "Game", "state": "Status", "noRounds": "no rounds",
};

export const NE = {
  "title": "खेलहरू", "lobby": "खेल लबी", "p": "AI ले {p} % प्रतिस्पर्धा जित्छ (अनुमति: ३५–५५ %)",
  "house": "हाउसको हिस्सा {h} %", "chance": "भाग्यको खेल", "skill": "सीपको प्रतिस्पर्धा",
  "notAllowed": "तपाईंका लागि होइन: {why}", "pack": "तपाईंका नियम ({cc})", "maxStake": "अधिकतम दाउ {n} सिक्का",
  "lossLimit": "दैनिक हानि सीमा {n} सिक्का", "live": "सामेल हुन सकिने राउन्ड", "recent": "सकिएका राउन्ड",
  "none": "अहिले यहाँ केही छैन।", "open": "खोल्नुहोस्", "join": "{n} सिक्कामा सामेल हुनुहोस्", "team": "टोली",
  "teamA": "टोली A", "teamB": "टोली B", "tickets": "टिकट", "buy": "टिकट किन्नुहोस् (प्रति {n} सिक्का)",
  "newChallenge": "नयाँ चुनौती", "stake": "दाउ (सिक्का)", "start": "सुरु गर्नुहोस्",
  "status": "अवस्था: {s}", "seedHash": "सिड प्रतिबद्धता (sha256)", "serverSeed": "खुलाइएको सर्भर सिड",
  "puzzle": "हल गर्नुहोस्: {text}", "answer": "उत्तर", "send": "पठाउनुहोस्", "question": "प्रश्न {n}",
  "timeLeft": "{n} सेकेन्ड बाँकी", "result": "नतिजा", "youWon": "तपाईंले {n} सिक्का जित्नुभयो!", "payouts": "भुक्तानी",
  "verify": "यही ब्राउजरमा प्रमाण जाँच्नुहोस्", "verified": "तपाईंको ब्राउजरमा प्रमाणित: {n} ड्र खुलाइएको सिडसँग मिल्छन्।",
  "verifyFailed": "प्रमाण जाँच असफल: {why}", "notRevealed": "राउन्ड सकिएपछि सर्भर सिड खुलाइन्छ।",
  "drawsAt": "ड्र {t} मा", "pot": "कोष {n} सिक्का", "players": "{n} खेलाडी", "round": "राउन्ड",
  "tournaments": "प्रतियोगिता", "register": "दर्ता ({n} सिक्का)", "bracket": "ब्र्याकेट",
  "bye": "बाइ", "winner": "विजेता", "place": "स्थान {n}", "yourMatch": "तपाईंको खेल: {text}",
  "admin": "खेल सेटिङ", "aiWinRate": "AI जित दर (०.३५–०.५५)", "houseShare": "हाउसको हिस्सा (०–०.५)",
  "save": "सेभ गर्नुहोस्", "saved": "सेभ भयो", "report": "AI जित दर प्रतिवेदन (९९ % Wilson)", "window": "अवधि",
  "configured": "p", "observed": "देखिएको", "interval": "९९ % अन्तराल", "rounds": "राउन्ड",
  "outOfBand": "सीमाबाहिर", "ok": "ठीक", "newTournament": "नयाँ प्रतियोगिता", "name": "नाम",
  "format": "ढाँचा", "single": "एकल एलिमिनेसन", "double": "डबल एलिमिनेसन", "entryFee": "प्रवेश शुल्क",
  "startsIn": "सुरु हुन (मिनेट)", "create": "बनाउनुहोस्", "newLottery": "नयाँ चिट्ठा", "price": "टिकट मूल्य",
  "drawIn": "ड्र हुन (मिनेट)", "game": "खेल", "state": "अवस्था", "noRounds": "राउन्ड छैन",
};

export function gt(key, vars) {
  let s = (lang() === "ne" ? NE : EN)[key] ?? EN[key] ?? key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return s;
}
