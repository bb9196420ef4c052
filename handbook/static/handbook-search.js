// The handbook's search page: reads the index handbook/search.py writes to
// _search/ and shows the results with their excerpts.
//
// A query is split and stemmed as the index was (the same stop words, from
// meta.json, and Sphinx's Snowball stemmer, in stemmer.js). Each stem is
// looked up in its shard, one small file per word; the pages are scored with
// BM25 and each page's weight. Pages holding every word come first; when
// fewer than PARTIAL_BELOW do, the pages holding some of them follow, best
// first, so a query in a reader's words never comes back empty because one
// word is missing. Only the shown results' text is downloaded,
// RESULTS_PER_PAGE at a time, to cut an excerpt with the query's words marked.
// A classic script, not a module: a page opened from the file system can
// still run it and say how to serve the site.

(() => {
  const RESULTS_PER_PAGE = 5;
  const PARTIAL_BELOW = 3;
  const EXCERPT_WORDS = 28;
  const K1 = 1.2; // BM25: how fast repeated words stop adding
  const B = 0.75; // BM25: how much a long page is discounted

  const script = document.querySelector("script[data-index]");
  const form = document.querySelector(".handbook-search-form");
  const input = document.getElementById("handbook-search-input");
  const status = document.getElementById("handbook-search-status");
  const output = document.getElementById("handbook-search-results");
  const indexRoot = new URL(script.dataset.index, document.baseURI);
  const siteRoot = new URL("..", indexRoot);
  const stemmer = new EnglishStemmer();
  const wordPattern = /[\p{L}\p{N}]+/gu;

  let meta = null; // meta.json, once loaded
  let metaLoading = null;
  const shards = new Map(); // shard number -> promise of Map(stem -> [[page id, count], ...])
  let latest = 0;

  async function fetchOk(url) {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url}: ${response.status}`);
    return response;
  }

  function loadMeta() {
    metaLoading ||= fetchOk(new URL("meta.json", indexRoot))
      .then((response) => response.json())
      .then((loaded) => {
        loaded.stop = new Set(loaded.stop_words);
        meta = loaded;
        return meta;
      });
    return metaLoading;
  }

  // The stems of a text, as handbook.search.terms() gives them.
  function terms(text, stopWords) {
    const words = text.toLowerCase().match(wordPattern) || [];
    return words.filter((w) => w.length > 1 && !stopWords.has(w)).map((w) => stemmer.stemWord(w));
  }

  function shardOf(term, count) {
    let value = 0x811c9dc5; // 32-bit FNV-1a, as handbook.search.shard_of()
    for (const byte of new TextEncoder().encode(term)) {
      value = Math.imul(value ^ byte, 0x01000193);
    }
    return (value >>> 0) % count;
  }

  function loadShard(number) {
    if (!shards.has(number)) {
      const parsed = fetchOk(new URL(`shards/${number}.txt`, indexRoot))
        .then((response) => response.text())
        .then((text) => {
          const postings = new Map();
          for (const line of text.split("\n")) {
            if (!line) continue;
            const [id, rest] = line.split("\t");
            const parts = rest.split(" ");
            for (let i = 0; i < parts.length; i += 2) {
              if (!postings.has(parts[i])) postings.set(parts[i], []);
              postings.get(parts[i]).push([Number(id), Number(parts[i + 1])]);
            }
          }
          return postings;
        });
      shards.set(number, parsed);
    }
    return shards.get(number);
  }

  // Pages holding every stem, then (if there are few) pages holding some of them.
  async function rank(query) {
    const index = await loadMeta();
    const stems = [...new Set(terms(query, index.stop))];
    const lists = await Promise.all(
      stems.map(async (stem) => (await loadShard(shardOf(stem, index.shards))).get(stem) || []),
    );
    const total = index.pages.length;
    const found = new Map(); // page id -> {id, score, matched}
    lists.forEach((postings) => {
      const idf = Math.log(1 + (total - postings.length + 0.5) / (postings.length + 0.5));
      for (const [id, count] of postings) {
        const [, length, boost] = index.pages[id];
        const norm = K1 * (1 - B + (B * length) / index.average_length);
        const entry = found.get(id) || { id, score: 0, matched: 0 };
        entry.score += boost * idf * ((count * (K1 + 1)) / (count + norm));
        entry.matched += 1;
        found.set(id, entry);
      }
    });
    const byScore = (a, b) => b.score - a.score || a.id - b.id;
    const all = [...found.values()];
    const complete = all.filter((entry) => entry.matched === stems.length).sort(byScore);
    const partial =
      complete.length >= PARTIAL_BELOW || stems.length < 2
        ? []
        : all
            .filter((entry) => entry.matched < stems.length)
            .sort((a, b) => b.matched - a.matched || byScore(a, b));
    return { complete, partial, stems: new Set(stems) };
  }

  async function loadPage(id) {
    const page = await (await fetchOk(new URL(`pages/${id}.json`, indexRoot))).json();
    page.url = new URL(meta.pages[id][0], siteRoot).href;
    return page;
  }

  // The words of a text, each with its stem when it counts for the query.
  function tokens(text, stems) {
    const parts = [];
    let last = 0;
    for (const match of text.matchAll(wordPattern)) {
      if (match.index > last) parts.push({ text: text.slice(last, match.index) });
      const word = match[0].toLowerCase();
      const stem = word.length > 1 && !meta.stop.has(word) ? stemmer.stemWord(word) : "";
      parts.push({ text: match[0], word: true, hit: stems.has(stem), stem });
      last = match.index + match[0].length;
    }
    if (last < text.length) parts.push({ text: text.slice(last) });
    return parts;
  }

  // How well some words match: the query's different words first, then repeats.
  function matchScore(parts) {
    const hits = parts.filter((part) => part.hit);
    return new Set(hits.map((part) => part.stem)).size * 1000 + hits.length;
  }

  // The window of EXCERPT_WORDS words that matches best, matches marked.
  function excerpt(text, stems) {
    const parts = tokens(text, stems);
    const words = parts.map((part, i) => (part.word ? i : -1)).filter((i) => i >= 0);
    let best = 0;
    let bestScore = -1;
    for (let start = 0; start < Math.max(1, words.length - EXCERPT_WORDS + 1); start += 1) {
      const score = matchScore(words.slice(start, start + EXCERPT_WORDS).map((i) => parts[i]));
      if (score > bestScore) [best, bestScore] = [start, score];
    }
    const from = words.length ? words[best] : 0;
    const to = words.length ? words[Math.min(words.length, best + EXCERPT_WORDS) - 1] + 1 : 0;
    const paragraph = document.createElement("p");
    paragraph.className = "handbook-search-excerpt";
    if (from > 0) paragraph.append("… ");
    for (const part of parts.slice(from, to)) {
      if (part.hit) {
        const mark = document.createElement("mark");
        mark.textContent = part.text;
        paragraph.append(mark);
      } else {
        paragraph.append(part.text);
      }
    }
    if (to < parts.length) paragraph.append(" …");
    return paragraph;
  }

  function resultItem(page, stems) {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = page.url;
    link.textContent = page.title || page.url;
    item.append(link);
    // The section that matches best; named when it is not the top of the page.
    const hits = (section) => matchScore(tokens(`${section[1]} ${section[2]}`, stems));
    let section = page.sections[0] || ["", "", ""];
    let most = hits(section);
    for (const candidate of page.sections.slice(1)) {
      const count = hits(candidate);
      if (count > most) [section, most] = [candidate, count];
    }
    if (section[0]) {
      const where = document.createElement("span");
      where.className = "handbook-search-section";
      const sectionLink = document.createElement("a");
      sectionLink.href = `${page.url}#${section[0]}`;
      sectionLink.textContent = section[1];
      where.append("Section: ", sectionLink);
      item.append(" ", where);
    }
    item.append(excerpt(section[2] || section[1], stems));
    return item;
  }

  // A list that shows RESULTS_PER_PAGE results and a button for the next ones.
  async function resultList(results, query, stems, heading) {
    const block = document.createDocumentFragment();
    if (heading) {
      const title = document.createElement("h2");
      title.textContent = heading;
      block.append(title);
    }
    const list = document.createElement("ol");
    list.className = "handbook-search-results";
    block.append(list);
    let shown = 0;
    const more = document.createElement("button");
    more.type = "button";
    more.className = "handbook-search-more";
    async function showNext() {
      const next = results.slice(shown, shown + RESULTS_PER_PAGE);
      const pages = await Promise.all(next.map((result) => loadPage(result.id)));
      if (query !== input.value.trim()) return;
      const items = pages.map((page) => resultItem(page, stems));
      list.append(...items);
      shown += next.length;
      more.hidden = shown >= results.length;
      more.textContent = `Show more (${results.length - shown} left)`;
      if (items.length && shown > RESULTS_PER_PAGE) items[0].querySelector("a").focus();
    }
    more.addEventListener("click", showNext);
    block.append(more);
    await showNext();
    return block;
  }

  function plural(count, word) {
    return `${count} ${word}${count === 1 ? "" : "s"}`;
  }

  async function search(query) {
    const ticket = ++latest;
    const address = new URL(location.href);
    if (query) address.searchParams.set("q", query);
    else address.searchParams.delete("q");
    history.replaceState(null, "", address);
    if (!query) {
      output.replaceChildren();
      status.textContent = "";
      return;
    }
    const { complete, partial, stems } = await rank(query);
    if (ticket !== latest) return; // a newer query has started
    const blocks = [];
    if (complete.length) blocks.push(await resultList(complete, query, stems, null));
    if (partial.length) {
      const heading = complete.length ? "Pages with some of these words" : null;
      blocks.push(await resultList(partial, query, stems, heading));
    }
    if (ticket !== latest) return;
    output.replaceChildren(...blocks);
    if (complete.length) {
      status.textContent = `${plural(complete.length, "page")} found for “${query}”.`;
    } else if (partial.length) {
      status.textContent = `No page has all of “${query}”; ${plural(partial.length, "page")} have some of these words.`;
    } else {
      status.textContent = `Nothing found for “${query}”. Try fewer or other words.`;
    }
  }

  function start() {
    if (location.protocol === "file:") {
      status.textContent =
        "Search needs the site served over HTTP: run “python3 -m nox -s serve” " +
        "(or “python3 -m http.server -d _build/html”) and open the address it prints.";
      input.disabled = true;
      return;
    }
    let timer = 0;
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => search(input.value.trim()), 250);
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      clearTimeout(timer);
      search(input.value.trim());
    });
    input.value = new URLSearchParams(location.search).get("q") || "";
    if (input.value) search(input.value.trim());
  }

  // For the tests: the stems the page looks up for a text.
  window.handbookSearch = {
    terms: async (text) => terms(text, (await loadMeta()).stop),
  };
  start();
})();
