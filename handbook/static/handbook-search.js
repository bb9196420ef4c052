// The handbook's search page: asks Pagefind's index (written by
// handbook/search.py) and shows the results with their excerpts.
//
// Pagefind returns the pages that hold every word of the query. When fewer
// than PARTIAL_BELOW pages do, the page also lists the pages that hold some of
// the words, ranked by the sum of their scores for each word, so a query
// in a reader's words never comes back empty because one word is missing.
// Only the shown results' excerpts are downloaded, RESULTS_PER_PAGE at a time.
// A classic script, not a module: a page opened from the file system can still
// run it and say how to serve the site (browsers refuse modules from file:).

(() => {
  const RESULTS_PER_PAGE = 5; // each result's excerpt costs a download of about 10 KB
  const PARTIAL_BELOW = 3;
  // Words that say nothing about the subject; left out of the partial search.
  const STOP_WORDS = new Set(
    ("a about an and are as at be but by can do does for from get gets has have how i if in is it its " +
     "keep keeps me my no not of on or our out so some that the their them then there these they this " +
     "to too up us very was we what when where which who why will with without you your").split(" "),
  );

  const script = document.querySelector("script[data-bundle]");
  const form = document.querySelector(".handbook-search-form");
  const input = document.getElementById("handbook-search-input");
  const status = document.getElementById("handbook-search-status");
  const output = document.getElementById("handbook-search-results");
  const siteRoot = new URL(".", document.baseURI).pathname;

  let pagefind = null;
  let latest = 0;

  async function loadIndex() {
    if (!pagefind) {
      pagefind = await import(new URL(script.dataset.bundle, document.baseURI).href);
      // noWorker: Pagefind 1.5 would fetch a second copy of its search code (12 KB) to
      // search in a web worker; a handbook's index answers in milliseconds on the page.
      await pagefind.options({ baseUrl: siteRoot, excerptLength: 28, noWorker: true });
    }
    return pagefind;
  }

  function subjectWords(query) {
    return query.toLowerCase().split(/\s+/).filter((word) => word && !STOP_WORDS.has(word));
  }

  // Pages holding every word, then (if there are few) pages holding some of them.
  async function rank(query) {
    const index = await loadIndex();
    const complete = (await index.search(query)).results;
    const words = subjectWords(query);
    if (complete.length >= PARTIAL_BELOW || words.length < 2) {
      return { complete, partial: [] };
    }
    const found = new Set(complete.map((result) => result.id));
    const scores = new Map();
    for (const answer of await Promise.all(words.map((word) => index.search(word)))) {
      for (const result of answer.results) {
        if (found.has(result.id)) continue;
        const entry = scores.get(result.id) ?? { result, score: 0 };
        entry.score += result.score;
        scores.set(result.id, entry);
      }
    }
    const partial = [...scores.values()].sort((a, b) => b.score - a.score).map((entry) => entry.result);
    return { complete, partial };
  }

  function resultItem(data) {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = data.url;
    link.textContent = data.meta.title || data.url;
    item.append(link);
    // The section with the most hits, when it is not the top of the page.
    const sections = (data.sub_results || []).filter((sub) => sub.anchor && sub.title);
    const hits = (sub) => (sub.locations || []).length;
    const section = sections.sort((a, b) => hits(b) - hits(a))[0];
    if (section) {
      const where = document.createElement("span");
      where.className = "handbook-search-section";
      const sectionLink = document.createElement("a");
      sectionLink.href = section.url;
      sectionLink.textContent = section.title;
      where.append("Section: ", sectionLink);
      item.append(" ", where);
    }
    const excerpt = document.createElement("p");
    excerpt.className = "handbook-search-excerpt";
    excerpt.innerHTML = (section || data).excerpt; // Pagefind escapes the text; only <mark> is markup
    item.append(excerpt);
    return item;
  }

  // A list that shows RESULTS_PER_PAGE results and a button for the next ones.
  async function resultList(results, query, heading) {
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
      const items = (await Promise.all(next.map((result) => result.data()))).map(resultItem);
      if (query !== input.value.trim()) return;
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
    const { complete, partial } = await rank(query);
    if (ticket !== latest) return; // a newer query has started
    const blocks = [];
    if (complete.length) blocks.push(await resultList(complete, query, null));
    if (partial.length) {
      const heading = complete.length ? "Pages with some of these words" : null;
      blocks.push(await resultList(partial, query, heading));
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

  start();
})();
