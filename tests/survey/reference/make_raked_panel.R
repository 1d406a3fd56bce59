# Reference for the estimate stage's calibration-aware variances (tests/stages/test_weight_estimate.py):
# a two-wave panel (some respondents in both waves), strata = municipality, PSU = respondent,
# each wave raked to its own margins (municipality, gender, education), domain means by
# wave x group with R survey's svyby. Run from the repository root:
#   Rscript tests/survey/reference/make_raked_panel.R
# Writes raked_panel.csv (data), raked_panel_margins.csv (population totals) and
# raked_panel_reference.csv (estimates and standard errors) next to this script.
suppressMessages(library(survey))
set.seed(20261201)
here <- "tests/survey/reference"
source(file.path(here, "rake_panel.R"))

n1 <- 400; n_new <- 150; n_panel <- 250
ids1 <- sprintf("r%03d", 1:n1)
ids_new <- sprintf("n%03d", 1:n_new)
person <- data.frame(respondent_id = c(ids1, ids_new), stringsAsFactors = FALSE)
k <- nrow(person)
person$municipality_code <- sample(c("0101", "0102", "0103"), k, replace = TRUE, prob = c(.5, .3, .2))
person$gender <- sample(c("female", "male"), k, replace = TRUE)
person$education <- sample(c("compulsory", "upper_secondary", "higher"), k, replace = TRUE, prob = c(.3, .4, .3))
person$u <- rnorm(k)
waves <- rbind(data.frame(respondent_id = ids1, wave = 1),
               data.frame(respondent_id = c(sample(ids1, n_panel), ids_new), wave = 2))
d <- merge(waves, person, by = "respondent_id")
d <- d[order(d$wave, d$respondent_id), ]
d$y <- 5 + 1.5 * (d$education == "higher") + 0.8 * (d$municipality_code == "0101") + d$u +
  rnorm(nrow(d)) + 0.3 * (d$wave == 2)
d$design_weight <- ifelse(d$wave == 1, 100, 120)  # constant within every margin category (see below)
d$u <- NULL

# population totals per wave: shares moved away from the sample's so that raking changes the weights
shares <- list(municipality_code = c("0101" = .45, "0102" = .35, "0103" = .20),
               gender = c(female = .52, male = .48),
               education = c(compulsory = .25, upper_secondary = .40, higher = .35))
totals <- c("1" = 50000, "2" = 50500)
margins <- do.call(rbind, lapply(names(shares), function(v) do.call(rbind, lapply(names(totals), function(w)
  data.frame(variable = v, wave = as.integer(w), category = names(shares[[v]]),
             population = totals[[w]] * shares[[v]] * ifelse(w == "2", 1 + c(-.03, .03, 0)[seq_along(shares[[v]])], 1),
             stringsAsFactors = FALSE)))))
# each wave's margins must add up to the same total
for (w in 1:2) for (v in names(shares)) {
  sel <- margins$wave == w & margins$variable == v
  margins$population[sel] <- margins$population[sel] / sum(margins$population[sel]) * totals[[w]]
}

raked <- rake_panel(d, margins)

rows <- list()
for (g in c("gender", "education", "municipality_code")) {
  est <- svyby(~y, as.formula(paste("~wave +", g)), raked, svymean)
  rows[[g]] <- data.frame(group_variable = g, wave = est$wave, group = as.character(est[[g]]),
                          estimate = coef(est), se = SE(est))
}
overall <- svyby(~y, ~wave, raked, svymean)
rows$all <- data.frame(group_variable = "all", wave = overall$wave, group = "all", estimate = coef(overall), se = SE(overall))
reference <- do.call(rbind, rows)

write.csv(d[, c("respondent_id", "wave", "municipality_code", "gender", "education", "design_weight", "y")],
          file.path(here, "raked_panel.csv"), row.names = FALSE)
write.csv(margins, file.path(here, "raked_panel_margins.csv"), row.names = FALSE)
write.csv(data.frame(weight_sum = sum(weights(raked)), first_weight = weights(raked)[1]),
          file.path(here, "raked_panel_weights.csv"), row.names = FALSE)
write.csv(reference, file.path(here, "raked_panel_reference.csv"), row.names = FALSE)
cat(R.version.string, "survey", as.character(packageVersion("survey")), "\n")
