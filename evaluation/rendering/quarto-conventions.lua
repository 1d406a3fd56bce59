-- Pandoc Lua filter: Quarto conventions the built-in engine keeps.
--
-- 1. An image's `fig-alt` attribute (Quarto's name) becomes its alt text, so
--    the HTML <img> carries it.
-- 2. For Typst, whose pandoc writer drops alt text, a figure holding one
--    image is written as raw Typst: #figure(image(path, alt: "..."), caption: [...]).
--    Typst puts the alt text into the tagged PDF, where screen readers find it.
--    An image that is not a file in the build folder (a data: URI, or a file
--    next to the report) is written to media/ first: Typst reads files below
--    its root only, and --extract-media does not look into raw Typst.
-- 3. For Typst, callouts (::: {.callout-warning} ...) become tinted blocks
--    with a coloured left rule (HTML styles them with CSS), and the source
--    line under a figure or table (::: {.data-source}) is set in small type.
-- 4. Quarto's conditional content: a div of class `content-visible` (or
--    `content-hidden`) with `when-format` / `unless-format` is kept (or
--    dropped) by output format; "html" matches the HTML writers and "pdf"
--    Typst and LaTeX, as in Quarto.
-- 5. For Typst, word joiners are dropped (see without_word_joiner).
-- 6. For HTML, the page title (<title>, what a screen reader announces and a
--    browser tab shows) starts with the document's first level-1 heading,
--    followed by the `pagetitle` of the front matter.

function Image(image)
  local alt = image.attributes["fig-alt"]
  if alt then
    image.caption = pandoc.Inlines(alt)
    image.attributes["fig-alt"] = nil
    return image
  end
end

local function typst_string(text)
  local escaped = text:gsub('\\', '\\\\'):gsub('"', '\\"'):gsub('%s+', ' ')
  return '"' .. escaped .. '"'
end

local function image_file(src)
  local relative = not src:match("^/") and not src:match("%.%.") and not src:match("^%a+:")
  local built = relative and io.open(src, "rb")
  if built then
    built:close()
    return src
  end
  local mime, contents = pandoc.mediabag.fetch(src)
  local path = "media/" .. pandoc.sha1(contents) .. "." .. (mime:match("/(%w+)") or "bin")
  pandoc.system.make_directory("media", true)
  local file = assert(io.open(path, "wb"))
  file:write(contents)
  file:close()
  return path
end

local function typst_figure(figure)
  local plain = figure.content[1]
  if #figure.content ~= 1 or plain.t ~= "Plain" or #plain.content ~= 1 then
    return nil
  end
  local image = plain.content[1]
  if image.t ~= "Image" or #image.caption == 0 then
    return nil
  end
  local caption = pandoc.write(pandoc.Pandoc(figure.caption.long), "typst")
  local label = figure.identifier ~= "" and (" <" .. figure.identifier .. ">") or ""
  return pandoc.RawBlock("typst", string.format(
    "#figure(image(%s, alt: %s), caption: [%s])%s",
    typst_string(image_file(image.src)),
    typst_string(pandoc.utils.stringify(image.caption)),
    caption,
    label
  ))
end

local CALLOUT_COLOURS = { note = "#0b5cad", tip = "#1a7f37", warning = "#b35900",
                          caution = "#b35900", important = "#b3261e" }

local function typst_callout(div)
  for _, class in ipairs(div.classes) do
    local kind = class:match("^callout%-(%a+)$")
    if kind then
      local colour = CALLOUT_COLOURS[kind] or CALLOUT_COLOURS.note
      local blocks = pandoc.Blocks({ pandoc.RawBlock("typst", string.format(
        '#block(width: 100%%, inset: 8pt, fill: rgb("%s").lighten(90%%), stroke: (left: 3pt + rgb("%s")))[',
        colour, colour)) })
      blocks:extend(div.content)
      blocks:insert(pandoc.RawBlock("typst", "]"))
      return blocks
    end
  end
end

local function format_matches(name)
  if name == "html" then
    return FORMAT:match("html") ~= nil
  end
  if name == "pdf" then
    return FORMAT == "typst" or FORMAT == "latex"
  end
  return FORMAT == name
end

local function conditional(div)
  local visible = div.classes:includes("content-visible")
  if not visible and not div.classes:includes("content-hidden") then
    return nil
  end
  local when, unless = div.attributes["when-format"], div.attributes["unless-format"]
  local matches = (when == nil or format_matches(when)) and (unless == nil or not format_matches(unless))
  if matches == visible then
    return div.content
  end
  return {}
end

local function typst_source_line(div)
  if div.classes:includes("data-source") then
    local blocks = pandoc.Blocks({ pandoc.RawBlock("typst", "#text(size: 8pt)[") })
    blocks:extend(div.content)
    blocks:insert(pandoc.RawBlock("typst", "]"))
    return blocks
  end
end

function Div(div)
  local kept = conditional(div)
  if kept ~= nil then
    return kept
  end
  if FORMAT == "typst" then
    return typst_callout(div) or typst_source_line(div)
  end
end

-- In a PDF table column narrower than the text, a word joiner (U+2060, which keeps an
-- interval on one line in HTML) would make Typst overflow into the next column; the
-- PDF may break the line there instead.
local function without_word_joiner(str)
  local text = str.text:gsub("\u{2060}", "")
  if text ~= str.text then
    return pandoc.Str(text)
  end
end

if FORMAT == "typst" then
  Figure = typst_figure
  Str = without_word_joiner
end

function Pandoc(doc)
  if not FORMAT:match("html") or doc.meta.title then
    return nil
  end
  for _, block in ipairs(doc.blocks) do
    if block.t == "Header" and block.level == 1 then
      local heading = pandoc.utils.stringify(block.content)
      local page = doc.meta.pagetitle and pandoc.utils.stringify(doc.meta.pagetitle)
      doc.meta.pagetitle = (page and page ~= "") and (heading .. " – " .. page) or heading
      return doc
    end
  end
end
