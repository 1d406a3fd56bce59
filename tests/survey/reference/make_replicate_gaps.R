# Reference numbers from R `survey` for gaps on a replicate-weight design: raw differences
# of two groups' means in every domain (svyby with covmat, svycontrast) and differences
# adjusted for categorical covariates (svyglm on the domain's subset), with supplied
# bootstrap weights (tests/survey/test_replicate_gaps_r.py). Run from this directory:
#   Rscript make_replicate_gaps.R
# Reads apistrat.csv, apistrat_bootstrap.csv and the bootstrap scale in
# replicate_reference.csv (make_replicate_reference.R); writes replicate_gaps_reference.csv.
suppressMessages(library(survey))
apistrat <- read.csv("apistrat.csv")
repw <- read.csv("apistrat_bootstrap.csv")
reference <- read.csv("replicate_reference.csv")
scale <- as.numeric(reference$value[reference$case == "boot" & reference$statistic == "scale"])
data <- cbind(apistrat, repw)
data$high <- as.numeric(data$api00 > 650)
data$meals_band <- ifelse(data$meals < 30, "low", ifelse(data$meals < 60, "mid", "high"))
data$ell_band <- ifelse(data$ell < 20, "low", "high")
boot <- svrepdesign(data = data, repweights = "rep[0-9]+", weights = ~pw, type = "other",
                    scale = scale, rscales = 1, mse = FALSE, combined.weights = TRUE)

rows <- list()
put <- function(case, term, statistic, value, call) {
  rows[[length(rows) + 1]] <<- data.frame(
    case = case, term = term, statistic = statistic,
    value = sprintf("%.15g", as.numeric(value)), call = call, stringsAsFactors = FALSE)
}
for (variable in c("api00", "high")) {
  call <- sprintf("svyby(~%s, ~stype + awards, boot, svymean, covmat = TRUE)", variable)
  b <- eval(parse(text = call))
  for (k in c("E", "H", "M")) {
    contrast <- setNames(c(1, -1), c(paste0(k, ".Yes"), paste0(k, ".No")))
    d <- svycontrast(b, contrast)
    put(paste0("gap_", variable), k, "estimate", coef(d), paste(call, "; svycontrast(b, Yes - No)"))
    put(paste0("gap_", variable), k, "se", SE(d), paste(call, "; svycontrast(b, Yes - No)"))
  }
}
for (k in c("E", "H", "M")) {
  call <- sprintf('svyglm(api00 ~ I(awards == "Yes") + factor(meals_band) + factor(ell_band), design = subset(boot, stype == "%s"))', k)
  m <- eval(parse(text = call))
  cf <- summary(m)$coefficients
  put("adjusted_api00", k, "estimate", cf[2, 1], call)
  put("adjusted_api00", k, "se", cf[2, 2], call)
  put("adjusted_api00", k, "df", m$df.residual, call)
  put("adjusted_api00", k, "n_terms", sum(!is.na(coef(m))), call)
}
write.csv(do.call(rbind, rows), "replicate_gaps_reference.csv", row.names = FALSE)
