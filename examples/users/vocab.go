package users

// Word lists the generator draws from. Changing any of them changes every
// generated data set, so they are fixed.

var firstNames = []string{
	"Ada", "Alan", "Alice", "Amara", "Ana", "Arjun", "Ben", "Carla", "Chen", "Chloe",
	"Daniel", "Diego", "Elena", "Emma", "Farid", "Fatima", "Grace", "Hana", "Hugo", "Ines",
	"Ivan", "Jamal", "Jonas", "Julia", "Kai", "Kenji", "Lara", "Leo", "Lina", "Luca",
	"Maya", "Mateo", "Mei", "Nadia", "Noah", "Olga", "Omar", "Priya", "Rosa", "Sam",
}

var lastNames = []string{
	"Abe", "Adams", "Alvarez", "Bakker", "Brown", "Chen", "Costa", "Dubois", "Eriksen", "Fischer",
	"Garcia", "Gupta", "Hansen", "Ito", "Jansen", "Kim", "Kowalski", "Lee", "Lopez", "Martin",
	"Meyer", "Moreau", "Nakamura", "Nguyen", "Novak", "Okafor", "Olsen", "Patel", "Perez", "Rossi",
	"Santos", "Schmidt", "Silva", "Singh", "Smith", "Tanaka", "Weber", "Wong", "Yilmaz", "Zhang",
}

var domains = []string{"example.com", "example.org", "example.net", "mail.example", "test.example"}

var streetNames = []string{
	"Oak", "Maple", "Cedar", "Elm", "Pine", "Birch", "Willow", "Lake", "Hill", "Park",
	"Main", "Church", "Mill", "River", "Station", "Victoria", "King", "Queen", "Market", "Spring",
}

var streetSuffixes = []string{"Street", "Avenue", "Road", "Lane", "Drive", "Way", "Court", "Place"}

type place struct{ city, state, country string }

var places = []place{
	{"Portland", "OR", "US"}, {"Austin", "TX", "US"}, {"Boston", "MA", "US"}, {"Denver", "CO", "US"},
	{"Toronto", "ON", "CA"}, {"Vancouver", "BC", "CA"}, {"Manchester", "England", "GB"},
	{"Edinburgh", "Scotland", "GB"}, {"Lyon", "Auvergne-Rhone-Alpes", "FR"}, {"Munich", "Bavaria", "DE"},
	{"Hamburg", "Hamburg", "DE"}, {"Porto", "Porto", "PT"}, {"Valencia", "Valencia", "ES"},
	{"Turin", "Piedmont", "IT"}, {"Utrecht", "Utrecht", "NL"}, {"Osaka", "Osaka", "JP"},
	{"Pune", "Maharashtra", "IN"}, {"Curitiba", "Parana", "BR"}, {"Melbourne", "Victoria", "AU"},
	{"Auckland", "Auckland", "NZ"},
}

var words = []string{
	"data", "pipeline", "batch", "record", "stream", "table", "query", "index", "cache", "server",
	"cloud", "network", "garden", "coffee", "music", "travel", "mountain", "river", "city", "project",
	"team", "design", "review", "release", "feature", "test", "update", "report", "meeting", "idea",
	"simple", "quick", "careful", "bright", "quiet", "modern", "classic", "remote", "local", "shared",
	"build", "ship", "learn", "share", "write", "read", "plan", "move", "grow", "start",
	"always", "often", "today", "again", "together", "better", "really", "still", "almost", "never",
	"and", "with", "for", "about",
}

var interests = []string{
	"hiking", "cycling", "photography", "cooking", "chess", "gardening", "reading", "running",
	"painting", "music", "travel", "climbing", "swimming", "yoga", "film", "board games",
	"astronomy", "birding", "pottery", "sailing", "skiing", "surfing", "knitting", "baking", "tennis",
}

var skills = []string{
	"go", "rust", "python", "java", "typescript", "sql", "postgresql", "sqlite", "mongodb", "kafka",
	"kubernetes", "docker", "terraform", "aws", "gcp", "linux", "git", "graphql", "grpc", "react",
	"spark", "airflow", "dbt", "etl", "statistics", "machine learning", "networking", "security",
	"testing", "profiling",
}

var schools = []string{
	"State University", "Technical Institute", "City College", "National University",
	"Polytechnic School", "University of the Coast", "Northern University", "Open University",
	"Institute of Science", "Metropolitan University", "Royal College", "Lakeside College",
}

// degrees is indexed by the education entry's position: a first degree,
// then a higher one.
var degrees = []string{"BSc", "MSc"}

var fields = []string{
	"Computer Science", "Mathematics", "Physics", "Economics", "Biology", "Chemistry",
	"Statistics", "Electrical Engineering", "Philosophy", "Linguistics", "History", "Design",
}

var companies = []string{
	"Acme Corp", "Globex", "Initech", "Umbrella Labs", "Stark Industries", "Wayne Enterprises",
	"Hooli", "Pied Piper", "Vandelay Industries", "Soylent", "Tyrell Systems", "Cyberdyne",
	"Wonka Foods", "Oscorp", "Massive Dynamic",
}

var titles = []string{
	"Software Engineer", "Senior Engineer", "Data Engineer", "Data Analyst", "Product Manager",
	"Designer", "Site Reliability Engineer", "Engineering Manager", "Consultant", "Architect",
	"Research Scientist", "Support Engineer", "Technical Writer", "QA Engineer", "Intern",
}

var themes = []string{"light", "dark", "system"}

var languages = []string{"en", "en-GB", "fr", "de", "es", "pt-BR", "it", "nl", "ja", "hi"}

var timezones = []string{
	"UTC", "America/New_York", "America/Chicago", "America/Los_Angeles", "America/Sao_Paulo",
	"Europe/London", "Europe/Paris", "Europe/Berlin", "Asia/Tokyo", "Asia/Kolkata", "Australia/Sydney",
}

var settingChoices = [numSettings]struct {
	key    string
	values []string
}{
	{"notifications.email", []string{"on", "off", "daily", "weekly"}},
	{"notifications.push", []string{"on", "off"}},
	{"notifications.sms", []string{"on", "off"}},
	{"privacy.profile", []string{"public", "connections", "private"}},
	{"privacy.search", []string{"on", "off"}},
	{"display.density", []string{"compact", "comfortable", "spacious"}},
	{"display.font_size", []string{"12", "14", "16", "18"}},
	{"feed.sort", []string{"latest", "top", "relevant"}},
	{"security.two_factor", []string{"on", "off"}},
	{"data.export_format", []string{"json", "csv", "xml"}},
}

var actions = []string{
	"login", "logout", "view_page", "search", "update_profile", "upload_file", "download_file",
	"send_message", "create_post", "like_post", "join_group", "change_password",
}

var currencies = []string{"USD", "EUR", "GBP", "JPY", "CAD", "AUD", "CHF", "INR", "BRL"}

var statuses = []string{"completed", "completed", "completed", "pending", "failed", "refunded"}

var subjects = []string{
	"Hello", "Quick question", "Meeting notes", "Re: project update", "Invitation", "Follow-up",
	"Weekend plans", "Your order", "Photos from the trip", "Draft for review", "Thanks!", "Reminder",
}

var fileTypes = []struct{ ext, mime string }{
	{".pdf", "application/pdf"},
	{".png", "image/png"},
	{".jpg", "image/jpeg"},
	{".txt", "text/plain"},
	{".csv", "text/csv"},
	{".json", "application/json"},
	{".zip", "application/zip"},
	{".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
}

var groupNames = []string{
	"Go Developers", "Data Engineering", "Weekend Hikers", "Book Club", "Photography Circle",
	"Home Cooks", "Chess Players", "Open Source", "Startup Founders", "Remote Workers",
	"Cyclists", "Film Buffs", "Language Exchange", "Board Gamers", "Gardeners", "Runners",
	"Jazz Fans", "Climbers", "Makers", "Volunteers",
}
