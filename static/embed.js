/* Reelboard storefront embed: <div data-reelboard-product="HANDLE"></div> becomes the product's
   latest video — muted, captioned, lazy (asked for when scrolled near), playing only while seen
   and never for shoppers who prefer reduced motion. No framework; load it with
   <script src="…/static/embed.js" data-reelboard-key="rbpk_…" defer></script>. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) return;
  var key = script.getAttribute("data-reelboard-key") || "";
  var base = new URL(script.src, location.href).origin;
  var still = window.matchMedia && matchMedia("(prefers-reduced-motion: reduce)").matches;
  var seen = typeof IntersectionObserver === "function";

  function get(url, type) {
    return fetch(url, { credentials: "omit" }).then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r[type]();
    });
  }

  var playing = seen && new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      var video = entry.target;
      if (entry.isIntersecting && !still) video.play().catch(function () {});
      else video.pause();
    });
  }, { threshold: 0.5 });

  function show(box, v) {
    var video = document.createElement("video");
    video.muted = true;
    video.defaultMuted = true;
    video.playsInline = true;
    video.loop = true;
    video.controls = true;
    video.preload = "none";
    video.setAttribute("aria-label", "Video: " + v.title);
    if (v.posterUrl) video.poster = v.posterUrl;
    if (v.width && v.height) {
      video.width = v.width;
      video.height = v.height;
      video.style.aspectRatio = v.width + " / " + v.height;
    }
    video.style.width = "100%";
    video.style.height = "auto";
    video.style.display = "block";
    video.src = v.videoUrl;
    if (v.captionsUrl) {
      // Read through CORS and handed to the track as a same-origin blob: no crossorigin
      // attribute on the video, so the video file itself needs no CORS. Off by default: the
      // captions are drawn into the video, and a shown track would say every word twice.
      get(v.captionsUrl, "text").then(function (text) {
        var track = document.createElement("track");
        track.kind = "captions";
        track.label = "Captions";
        track.srclang = document.documentElement.lang || "en";
        track.src = URL.createObjectURL(new Blob([text], { type: "text/vtt" }));
        video.appendChild(track);
      }).catch(function () {});
    }
    box.appendChild(video);
    box.setAttribute("data-reelboard-state", "ready");
    if (playing) playing.observe(video);
  }

  function load(box) {
    var product = box.getAttribute("data-reelboard-product");
    var boxKey = box.getAttribute("data-reelboard-key") || key;
    if (!product || !boxKey) return;
    box.setAttribute("data-reelboard-state", "loading");
    get(base + "/storefront/v1/products/" + encodeURIComponent(product) + "/video?key=" + encodeURIComponent(boxKey), "json")
      .then(function (v) { show(box, v); })
      .catch(function () { box.setAttribute("data-reelboard-state", "none"); });
  }

  var near = seen && new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      if (!entry.isIntersecting) return;
      near.unobserve(entry.target);
      load(entry.target);
    });
  }, { rootMargin: "300px" });

  function scan(root) {
    (root || document).querySelectorAll("[data-reelboard-product]:not([data-reelboard-state])").forEach(function (box) {
      box.setAttribute("data-reelboard-state", "waiting");
      if (near) near.observe(box);
      else load(box);
    });
  }

  window.Reelboard = { scan: scan };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { scan(); });
  else scan();
})();
